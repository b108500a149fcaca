import { Engine } from './engine.ts'
import type { EngineRequest } from './engine.ts'

// The index worker: the thread that owns this process's usearch indexes (native.ts starts it). Requests are handled
// one at a time in arrival order, so a search sent after an add sees that add.

declare const self: { onmessage: ((ev: { data: { seq: number; req: EngineRequest } }) => void) | null; postMessage(m: unknown): void }

const engine = import('usearch').then((u) => new Engine(u))

self.onmessage = (ev) => {
  const { seq, req } = ev.data
  engine.then((e) => self.postMessage({ seq, ok: true, reply: e.handle(req) })).catch((err: unknown) => {
    self.postMessage({ seq, ok: false, message: err instanceof Error ? err.message : String(err) })
  })
}
