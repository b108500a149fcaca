import { embeddedAssets } from '../../runtime/index.ts'
import { PGliteDirect } from './direct.ts'
import { serializeError } from './protocol.ts'
import type { WorkerRequest, WorkerResponse } from './protocol.ts'

// The store worker: the only thread that runs PGlite. The serving thread sends one request at a time (its scheduler
// decides the order), so this loop needs no queue of its own; it answers each request with how long it took.

declare const self: { onmessage: ((ev: { data: WorkerRequest }) => void) | null; postMessage(m: WorkerResponse): void; close(): void }

let db: PGliteDirect | undefined

// Inside a binary, the embedded engine's WebAssembly compiles from the moment this thread starts, while the serving
// thread is still loading its modules (the 'open' message finds it compiled or under way). From sources: nothing.
void embeddedAssets().then((assets) => assets?.pglite()).catch(() => undefined)

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'open':
      db = await PGliteDirect.open(req.options)
      return null
    case 'query': {
      return store().query(req.sql, req.params, req.prepare ? { prepare: true } : undefined)
    }
    case 'exec':
      await store().exec(req.sql)
      return null
    case 'copy':
      return req.binary ? store().copyBinaryFrom(req.target, req.csv) : store().copyFrom(req.target, req.csv)
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

self.onmessage = (ev) => {
  const req = ev.data
  const started = performance.now()
  const fail = (e: unknown) => self.postMessage({ id: req.id, ok: false, error: serializeError(e), busyMs: performance.now() - started })
  handle(req).then((result) => {
    try {
      self.postMessage({ id: req.id, ok: true, result, busyMs: performance.now() - started })
    } catch (e) {
      // A value that cannot cross threads must still answer the caller, or it would wait forever.
      fail(e)
    }
  }, fail)
}
