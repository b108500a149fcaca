import { collectGarbage } from '../../runtime/index.ts'
import { prepareAssets } from './assets.ts'
import { PGliteDirect } from './direct.ts'
import { serializeError } from './protocol.ts'
import type { WorkerRequest, WorkerResponse } from './protocol.ts'

// The store worker: the only thread that runs PGlite. The serving thread's scheduler decides the order of requests
// and may send a few reads before the first is answered (scheduler.ts READS_IN_FLIGHT); they run here one after
// another, in the order they came, each answered with how long it took.

declare const self: { onmessage: ((ev: { data: WorkerRequest }) => void) | null; postMessage(m: WorkerResponse, transfer?: Transferable[]): void; close(): void }

let db: PGliteDirect | undefined

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'prepare':
      prepareAssets(req.assets)
      return null
    case 'open':
      db = await PGliteDirect.open(req.options)
      // A new data dir leaves garbage this thread would keep for its whole life: initdb's own WebAssembly memory
      // (~165 MB) and ~200 MB of heap from loading it. Only a full collection frees it (it is old by then), and the
      // store's own traffic rarely brings one on, so one is made now, before the first statement: ~1 s at load 11-14 in
      // an open of 24-32 s (BENCHMARKS.md, issue 16 `annmem`: RSS after creating a store ~750 -> ~340 MB). Reopening
      // a data dir leaves ~10 MB: no pause for that.
      if (db.created) collectGarbage()
      return null
    case 'query': {
      return store().query(req.sql, req.params, req.prepare ? { prepare: true } : undefined)
    }
    case 'exec':
      await store().exec(req.sql)
      return null
    case 'copy':
      return req.binary ? store().copyBinaryFrom(req.target, req.csv) : store().copyFrom(req.target, req.csv)
    case 'copyOut':
      return store().copyBinaryTo(req.select)
    case 'dump':
      return store().dump()
    case 'close':
      await db?.close()
      db = undefined
      return null
  }
}

function store(): PGliteDirect {
  if (!db) throw new Error('the store worker has no open database')
  return db
}

/** The request being run: the next one starts when it ends (prepared statements go through execProtocol, which
 * takes no lock of PGlite's, so two requests must never interleave). */
let running: Promise<void> = Promise.resolve()

self.onmessage = (ev) => {
  const req = ev.data
  // The engine's WebAssembly compiles from the moment the entry point names it, while the serving thread is still
  // loading its modules (the 'open' message finds it compiled or under way). Nobody waits for an answer.
  if (req.op === 'prepare') return void handle(req)
  running = running.then(() => run(req))
}

async function run(req: WorkerRequest): Promise<void> {
  const started = performance.now()
  const fail = (e: unknown) => self.postMessage({ id: req.id, ok: false, error: serializeError(e), busyMs: performance.now() - started })
  try {
    const result = await handle(req)
    try {
      // A payload of bytes (COPY TO) is handed over, not copied: it is the worker's own, made for this answer.
      const transfer = result instanceof Uint8Array ? [result.buffer as ArrayBuffer] : undefined
      self.postMessage({ id: req.id, ok: true, result, busyMs: performance.now() - started }, transfer)
    } catch (e) {
      // A value that cannot cross threads must still answer the caller, or it would wait forever.
      fail(e)
    }
  } catch (e) {
    fail(e)
  }
}
