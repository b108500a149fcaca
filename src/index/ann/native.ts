import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { isCompiledBinary } from '../../runtime/index.ts'
import { Engine } from './engine.ts'
import type { AnnSettings, EngineReply, EngineRequest, FileCheck, Quantization } from './engine.ts'

// The native HNSW graphs: usearch (C++, prebuilt for linux/macOS/windows, the library DuckDB's vector search uses),
// owned by one index worker per process (engine-worker.ts), so that bulk adds (with usearch's own threads), loads
// and saves never hold the serving thread; a search costs one message each way. Where no worker can start, the same
// engine runs on this thread and adds are sized to stay near a time budget per call.

export type { AnnSettings, FileCheck, Quantization } from './engine.ts'

export const ANN_DEFAULTS = { m: 16, efConstruction: 64, efSearch: 40 } as const

/**
 * The quantization of an index that names none. Cosine: f16. Its vectors are unit length, well inside f16's range,
 * and at 100,000 × 384 f16 against f32 (usearch alone, ef 90; bench/lib/ann-quantization.ts, two runs) searched in
 * 0.29–0.36 against 0.48–0.49 ms, built in 10–13 against 16–17 s, at the same recall@10 (0.977–0.983 against
 * 0.974–0.979 clustered), with half the memory and disk for vectors; its distances are within 1e-4 of exact, and
 * results' scores are computed exactly anyway (plan.ts). Inner product and L2: f32, since their vectors may lie past
 * f16's range (65,504) or lose precision beside large components.
 */
export const defaultQuantization = (metric: AnnSettings['metric']): Quantization => (metric === 'cosine' ? 'f16' : 'f32')

/** How long one add request may take: a search of another index waits at most about this long behind it. */
const ADD_BUDGET_MS = 40

interface Host {
  call(req: EngineRequest): Promise<EngineReply>
}

/** The runtime's own Worker, taken when this module loads (onnxruntime-web's glue may replace the global later). */
const RuntimeWorker = globalThis.Worker as typeof Worker | undefined

class WorkerHost implements Host {
  readonly #worker: Worker
  readonly #pending = new Map<number, { resolve: (r: EngineReply) => void; reject: (e: Error) => void }>()
  #seq = 0
  #failed: Error | undefined

  constructor(worker: Worker) {
    this.#worker = worker
    worker.onmessage = (ev: MessageEvent<{ seq: number; ok: boolean; reply?: EngineReply; message?: string }>) => {
      const m = ev.data
      const p = this.#pending.get(m.seq)
      if (!p) return
      this.#pending.delete(m.seq)
      this.#refWhileBusy()
      if (m.ok) p.resolve(m.reply!)
      else p.reject(new Error(m.message))
    }
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault?.()
      this.#failed = new Error(`the native index worker failed: ${ev.message || 'unknown error'}`)
      for (const p of this.#pending.values()) p.reject(this.#failed)
      this.#pending.clear()
      this.#refWhileBusy()
    }
    this.#refWhileBusy()
  }

  call(req: EngineRequest): Promise<EngineReply> {
    if (this.#failed) return Promise.reject(this.#failed)
    const seq = ++this.#seq
    return new Promise<EngineReply>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject })
      this.#refWhileBusy()
      this.#worker.postMessage({ seq, req })
    })
  }

  terminate(): void {
    this.#worker.terminate()
  }

  // An idle worker must not keep the process alive; a busy one must, or an awaited reply could be lost at exit.
  #refWhileBusy(): void {
    const w = this.#worker as Worker & { ref?(): void; unref?(): void }
    if (this.#pending.size > 0) w.ref?.()
    else w.unref?.()
  }
}

class InThreadHost implements Host {
  constructor(readonly engine: Engine) {}
  async call(req: EngineRequest): Promise<EngineReply> {
    return this.engine.handle(req)
  }
}

let host: Promise<Host> | undefined
let onThisThread = false

/**
 * Tests: 'thread' runs indexes created from now on on this thread (as where no worker can start); 'auto' goes back
 * to the worker. Indexes already open keep where they are.
 */
export function chooseAnnEngine(where: 'auto' | 'thread'): void {
  onThisThread = where === 'thread'
  host = undefined
}

/** The index worker, started on first use; the same engine on this thread when a worker cannot start or answer. */
function engineHost(): Promise<Host> {
  host ??= (async () => {
    if (RuntimeWorker && !onThisThread) {
      let worker: WorkerHost | undefined
      try {
        const entry = isCompiledBinary() ? './src/index/ann/engine-worker.ts' : new URL('./engine-worker.ts', import.meta.url)
        worker = new WorkerHost(new RuntimeWorker(entry, { type: 'module' }))
        await Promise.race([worker.call({ op: 'ping' }), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer')), 20_000).unref?.())])
        return worker
      } catch {
        worker?.terminate()
      }
    }
    return new InThreadHost(new Engine(await import('usearch')))
  })()
  return host
}

/** Whether the indexes live in the index worker (false: on this thread). */
export const inWorker = async (): Promise<boolean> => (await engineHost()) instanceof WorkerHost

let nextId = 1

/** One usearch index, keyed by the table's _rowid. Its size is known here after every request. */
export class NativeIndex {
  readonly #host: Host
  readonly #id: number
  readonly settings: AnnSettings
  #size = 0
  #batch = 64

  private constructor(host: Host, id: number, settings: AnnSettings) {
    this.#host = host
    this.#id = id
    this.settings = settings
  }

  static async create(settings: AnnSettings): Promise<NativeIndex> {
    const h = await engineHost()
    const ix = new NativeIndex(h, nextId++, settings)
    await h.call({ op: 'create', id: ix.#id, settings })
    return ix
  }

  /**
   * Loads a saved index once the file matches `file` (its length and CRC-32 when saved: see file-check.ts); else
   * why not (missing, damaged, unreadable, of other dimensions), and the caller rebuilds.
   */
  static async open(path: string, settings: AnnSettings, file: FileCheck): Promise<{ readonly index: NativeIndex } | { readonly problem: string }> {
    const h = await engineHost()
    const ix = new NativeIndex(h, nextId++, settings)
    const r = await h.call({ op: 'load', id: ix.#id, settings, path, file })
    if (!r.loaded) return { problem: r.problem ?? 'was not loaded' }
    ix.#size = r.size
    return { index: ix }
  }

  get size(): number {
    return this.#size
  }

  async #call(req: EngineRequest): Promise<EngineReply> {
    const r = await this.#host.call(req)
    this.#size = r.size
    return r
  }

  /**
   * Adds (or replaces) vectors, in requests sized by the measured rate to stay near ADD_BUDGET_MS each (with a turn
   * of this thread's event loop between, when the engine runs here); stops early when `isCancelled`. Returns the
   * milliseconds the engine spent in them (the rest of the wait is messages and queueing: 11-20% of a build's adding
   * at load 9-12, BENCHMARKS.md issue 16 `annmem`).
   */
  async add(keys: BigUint64Array, vectors: Float32Array, isCancelled: () => boolean = () => false): Promise<number> {
    const dims = this.settings.dims
    let engineMs = 0
    for (let i = 0; i < keys.length; ) {
      if (isCancelled()) break
      const n = Math.min(this.#batch, keys.length - i)
      // Copies: a request crosses threads by structured clone, and views of a bigger page would clone all of it.
      const r = await this.#call({ op: 'add', id: this.#id, keys: keys.slice(i, i + n), vectors: vectors.slice(i * dims, (i + n) * dims) })
      i += n
      engineMs += r.ms ?? 0
      this.#batch = Math.max(8, Math.min(8192, Math.round(n * (ADD_BUDGET_MS / Math.max(r.ms ?? 1, 0.5)))))
      if (this.#host instanceof InThreadHost) await new Promise((resolve) => setTimeout(resolve, 0))
    }
    return engineMs
  }

  async remove(keys: BigUint64Array): Promise<void> {
    if (keys.length > 0) await this.#call({ op: 'remove', id: this.#id, keys })
  }

  /**
   * The `count` nearest keys to `query` with their distances (usearch explores max(count, efSearch) candidates).
   * Distances follow usearch's metric: 1 − cosine, 1 − dot, or squared L2 — the order of pgvector's.
   */
  async search(query: Float32Array, count: number): Promise<{ keys: BigUint64Array; distances: Float32Array }> {
    const r = await this.#call({ op: 'search', id: this.#id, query, count })
    return { keys: r.keys!, distances: r.distances! }
  }

  async contains(keys: BigUint64Array): Promise<boolean[]> {
    return (await this.#call({ op: 'contains', id: this.#id, keys })).present!
  }

  /**
   * Writes to `path` through a temporary file, so a crash leaves the old file or the new one, never half of one.
   * Returns the new file's length and CRC-32, which its note records (a load verifies them).
   */
  async save(path: string): Promise<FileCheck> {
    mkdirSync(dirname(path), { recursive: true })
    const tmp = `${path}.tmp`
    const r = await this.#call({ op: 'save', id: this.#id, path: tmp })
    renameSync(tmp, path)
    return r.file!
  }

  /** Frees the graph (the object must not be used after). */
  async drop(): Promise<void> {
    await this.#host.call({ op: 'drop', id: this.#id })
  }
}

export function removeIndexFiles(path: string): void {
  for (const p of [path, `${path}.tmp`, metaPath(path)]) rmSync(p, { force: true })
}

export const metaPath = (path: string): string => `${path}.json`
