// The bare transports of the store hop, for bench/hop.ts: a worker that answers a store-shaped request with a
// one-row store-shaped result and does nothing else, so a round trip to it is what crossing the thread costs alone.
// Two transports: postMessage (what the store uses), and a SharedArrayBuffer with Atomics (the request and the answer
// as JSON in the shared buffer, this thread blocked in Atomics.wait between requests: no event loop on its path).

const thread = globalThis as unknown as { onmessage: (e: MessageEvent) => void; postMessage(data: unknown): void }

const ROW = { rows: [{ o0: 123456, o1: 'name-123456', o2: 'c7', o3: 512.25, o4: { a: 1, b: 'x', tags: ['p', 'q'] } }], affectedRows: 0 }

/**
 * Shared buffer layout, Int32: [0] a request is ready (this thread waits on it), [1] its bytes, [2] the answer's bytes,
 * [3] the answer is ready (the caller waits on it); payload from byte 64. Each side waits on its own slot.
 */
function serveShared(buffer: SharedArrayBuffer): void {
  const state = new Int32Array(buffer, 0, 16)
  const bytes = new Uint8Array(buffer, 64)
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  for (;;) {
    Atomics.wait(state, 0, 0)
    const flag = Atomics.exchange(state, 0, 0)
    if (flag === -1) return
    if (flag !== 1) continue
    const req = JSON.parse(decoder.decode(bytes.slice(0, state[1]!))) as { id: number }
    state[2] = encoder.encodeInto(JSON.stringify({ id: req.id, ok: true, result: ROW, busyMs: 0 }), bytes).written
    Atomics.store(state, 3, 1)
    Atomics.notify(state, 3)
  }
}

thread.onmessage = (e: MessageEvent<{ id: number; shared?: SharedArrayBuffer }>) => {
  if (e.data.shared) return serveShared(e.data.shared)
  thread.postMessage({ id: e.data.id, ok: true, result: ROW, busyMs: 0 })
}

export {}
