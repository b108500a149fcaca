import type { CopyOptions, Driver, Queryable, QueryOptions, QueryResult, StoreCapabilities, TransactionOptions } from '../types.ts'
import { readClass, StoreScheduler } from '../scheduler.ts'
import type { StoreClass } from '../scheduler.ts'
import type { PGliteOpenOptions } from './direct.ts'
import type { PGliteAssets } from './assets.ts'
import { deserializeError } from './protocol.ts'
import { isCompiledBinary } from '../../runtime/index.ts'
import type { WorkerRequest, WorkerResponse } from './protocol.ts'

// The embedded store as the rest of Tessera sees it: PGlite runs in its own thread (worker.ts), so no statement,
// however long, holds the thread that serves HTTP, answers /health and hears signals. Each call here is a message
// to that worker; the scheduler decides whose message goes next (reads before write steps, jobs never starved).

export type { PGliteAssets, PGliteOpenOptions }

/** A request without its id (the connection numbers them). */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never

type Pending = { resolve: (r: { result: unknown; busyMs: number }) => void; reject: (e: unknown) => void }

interface WorkerLike {
  postMessage(m: WorkerRequest, transfer?: Transferable[]): void
  onmessage: ((ev: MessageEvent<WorkerResponse>) => void) | null
  onerror: ((ev: ErrorEvent) => void) | null
  terminate(): void
  ref?(): void
  unref?(): void
}

/**
 * The runtime's own Worker, taken when this module loads: onnxruntime-web's Emscripten glue later replaces
 * globalThis.Worker with node:worker_threads' Worker (another event API), after which a store worker started with
 * the global would never be heard from. Exported for tests that watch the messages to the store worker.
 */
export const RuntimeWorker = globalThis.Worker

/**
 * The store worker's entry. A compiled binary carries it as an extra entrypoint of `bun build --compile` (build.ts),
 * addressed by its path from the project root; from sources it is the file beside this one.
 */
function startWorker(): WorkerLike {
  const early = prestarted
  prestarted = undefined
  if (early) return early
  const entry = isCompiledBinary() ? './src/store/pglite/worker.ts' : new URL('./worker.ts', import.meta.url)
  return new RuntimeWorker(entry, { type: 'module' }) as unknown as WorkerLike
}

let prestarted: WorkerLike | undefined

/**
 * Starts the store worker before the data dir is opened (bin/tessera.ts, first thing for commands that open one), so
 * the worker's start and its WebAssembly compile overlap with loading everything else. `assets`: the ones the entry
 * point will open with (the worker starts compiling their engine as soon as they are known). The next open() takes
 * the worker; an unused one keeps no process alive.
 */
export function prestartStoreWorker(assets?: PGliteAssets | Promise<PGliteAssets | undefined>): void {
  // Only where a Worker can be unref'd (Bun): elsewhere an unused one would keep a failed command from exiting.
  if (prestarted || !('unref' in RuntimeWorker.prototype)) return
  const worker = startWorker()
  worker.unref?.()
  prestarted = worker
  // Unanswered (the worker never replies to 'prepare'); a failure to load them is reported by the open that uses them.
  void Promise.resolve(assets).then((a) => a && worker.postMessage({ id: 0, op: 'prepare', assets: a })).catch(() => undefined)
}

class WorkerConnection {
  readonly #worker: WorkerLike
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #failed: Error | undefined

  constructor(worker: WorkerLike) {
    this.#worker = worker
    worker.onmessage = (ev) => {
      const res = ev.data
      const p = this.#pending.get(res.id)
      if (!p) return
      this.#pending.delete(res.id)
      if (this.#pending.size === 0) this.#refWhileBusy()
      if (res.ok) p.resolve({ result: res.result, busyMs: res.busyMs })
      else p.reject(deserializeError(res.error))
    }
    // A worker that dies (out of memory, a wasm abort) fails every waiting call instead of leaving it hanging.
    worker.onerror = (ev) => {
      ev.preventDefault?.()
      this.#fail(new Error(`the embedded store's worker failed: ${ev.message || 'unknown error'}`))
    }
    this.#refWhileBusy()
  }

  /** `req`: a fresh object of the caller's, numbered here (no copy of it per call: this is every read's path). */
  send(req: RequestBody, transfer?: Transferable[]): Promise<{ result: unknown; busyMs: number }> {
    if (this.#failed) return Promise.reject(this.#failed)
    const msg = req as WorkerRequest & { id: number }
    msg.id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(msg.id, { resolve, reject })
      if (this.#pending.size === 1) this.#refWhileBusy()
      this.#worker.postMessage(msg, transfer)
    })
  }

  // An idle worker must not keep the process alive (a script that forgot close() still exits), but one with a
  // call in flight must: otherwise a process waiting only on the store would exit mid-call. Toggled only when the
  // count of calls in flight leaves or reaches zero.
  #refWhileBusy(): void {
    if (this.#pending.size > 0) this.#worker.ref?.()
    else this.#worker.unref?.()
  }

  /** Ends the worker; a call still waiting, or one made later, fails instead of waiting forever for an answer. */
  terminate(): void {
    this.#fail(new Error('the embedded store is closed'))
    this.#worker.terminate()
  }

  #fail(error: Error): void {
    this.#failed ??= error
    for (const p of this.#pending.values()) p.reject(error)
    this.#pending.clear()
    this.#refWhileBusy()
  }
}

class WorkerQueryable implements Queryable {
  constructor(protected readonly conn: WorkerConnection, protected readonly onBusy: (ms: number) => void) {}

  async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    const { result, busyMs } = await this.conn.send(options?.prepare ? { op: 'query', sql, params, prepare: true } : { op: 'query', sql, params })
    this.onBusy(busyMs)
    return result as QueryResult<R>
  }

  async exec(sql: string): Promise<void> {
    const { busyMs } = await this.conn.send({ op: 'exec', sql })
    this.onBusy(busyMs)
  }

  async copyBinaryFrom(target: string, payload: Uint8Array): Promise<number> {
    // A copy of the bytes, transferred: the caller's buffer stays usable.
    const bytes = payload.slice()
    const { result, busyMs } = await this.conn.send({ op: 'copy', target, csv: bytes, binary: true }, [bytes.buffer as ArrayBuffer])
    this.onBusy(busyMs)
    return result as number
  }

  async copyBinaryTo(select: string): Promise<Uint8Array> {
    const { result, busyMs } = await this.conn.send({ op: 'copyOut', select })
    this.onBusy(busyMs)
    return result as Uint8Array
  }
}

/** Runs a store call that has its turn, reporting the time it held the store to options.onHeld. */
async function held<T>(options: CopyOptions | undefined, fn: () => Promise<T>): Promise<T> {
  if (!options?.onHeld) return fn()
  const began = performance.now()
  const result = await fn()
  options.onHeld(performance.now() - began)
  return result
}

export class PGliteDriver implements Driver {
  readonly kind = 'pglite' as const
  readonly capabilities: StoreCapabilities = { vector: true, stagedWrites: true }
  readonly scheduler = new StoreScheduler()
  readonly #conn: WorkerConnection
  /** Statements outside transactions: one for the driver's life (it holds no state of a call). */
  readonly #statements: WorkerQueryable
  #busyMs = 0
  #closed = false

  private constructor(conn: WorkerConnection) {
    this.#conn = conn
    this.#statements = new WorkerQueryable(conn, this.#onBusy)
  }

  static async open(options: PGliteOpenOptions = {}): Promise<PGliteDriver> {
    const conn = new WorkerConnection(startWorker())
    try {
      await conn.send({ op: 'open', options: { ...(options.dataDir ? { dataDir: options.dataDir } : {}), ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}), ...(options.assets ? { assets: options.assets } : {}) } })
    } catch (e) {
      conn.terminate()
      // The assets cross by structured clone: a runtime that cannot clone a WebAssembly.Module refuses them here.
      if (e instanceof Error && e.name === 'DataCloneError') throw new Error(`the store assets cannot be passed to the store worker in this runtime (${e.message}): pass them as file paths (pgliteWasmPath, initdbWasmPath, fsBundlePath)`)
      throw e
    }
    return new PGliteDriver(conn)
  }

  /** Milliseconds the store has spent executing statements since it opened. */
  get busyMs(): number {
    return this.#busyMs
  }

  readonly #onBusy = (ms: number): void => {
    this.#busyMs += ms
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    // A read, or a page of a long one (a streamed query: bulkReads), which lets interactive reads and writes go first.
    return this.scheduler.run(readClass(), () => this.#statements.query<R>(sql, params, options))
  }

  exec(sql: string): Promise<void> {
    return this.scheduler.run('read', () => this.#statements.exec(sql))
  }

  /** A bulk load (imports): one write-class turn of the store per call, so reads run between batches. */
  copyFrom(target: string, csv: string, options?: CopyOptions): Promise<number> {
    return this.scheduler.run('write', () => held(options, async () => {
      // Bytes, transferred: a string payload would be copied across threads (postMessage showed in the import profile).
      const bytes = new TextEncoder().encode(csv)
      const { result, busyMs } = await this.#conn.send({ op: 'copy', target, csv: bytes }, [bytes.buffer as ArrayBuffer])
      this.#onBusy(busyMs)
      return result as number
    }))
  }

  /**
   * COPY in the binary format as one statement of its own (atomic by itself), in one write-class turn: one message to
   * the worker, where a transaction around it cost three (BEGIN, COPY, COMMIT: a direct load's batches, issue 22).
   */
  copyBinaryFrom(target: string, payload: Uint8Array, options?: CopyOptions): Promise<number> {
    return this.scheduler.run('write', () => held(options, () => this.#statements.copyBinaryFrom(target, payload)))
  }

  /** A read (one statement), scheduled as reads are: COPY (select) TO, its rows in COPY's binary format. */
  copyBinaryTo(select: string): Promise<Uint8Array> {
    return this.scheduler.run(readClass(), () => this.#statements.copyBinaryTo(select))
  }

  /** One transaction holds the store from BEGIN to COMMIT: nothing else interleaves, as with PGlite's own. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const cls: StoreClass = options.priority === 'background' ? 'background' : 'write'
    return this.scheduler.run(cls, async () => {
      const tx = new WorkerQueryable(this.#conn, this.#onBusy)
      // BEGIN is not waited for: the worker runs messages in the order sent, so the first statement can follow it at
      // once (a round trip less per transaction; issue 22, branch ins10k). BEGIN fails only where every statement
      // fails (no open store, a dead worker, an aborted transaction), and its failure fails the transaction.
      const begun = tx.exec('begin')
      let result: T
      try {
        result = await fn(tx)
        await begun
      } catch (e) {
        await begun.catch(() => undefined)
        await tx.exec('rollback').catch(() => undefined)
        throw e
      }
      await tx.exec('commit')
      return result
    })
  }

  /** A tarball of the whole data dir (backups; test templates). */
  async dump(): Promise<Blob> {
    return this.scheduler.run('read', async () => (await this.#conn.send({ op: 'dump' })).result as Blob)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      // Every call made before close() is answered first (see whenIdle), then the worker shuts the store down.
      await this.scheduler.whenIdle()
      await this.scheduler.run('write', () => this.#conn.send({ op: 'close' }))
    } finally {
      this.#conn.terminate()
    }
  }
}
