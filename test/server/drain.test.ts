import { expect, test } from 'bun:test'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { Drain } from '../../src/server/drain.ts'
import { sendRows } from '../../src/server/json.ts'

// The drain counts a streaming response in flight until its body has been sent (or has failed, or its reader went
// away), not until its handler returned; past the timeout, cutOff() ends each stream with its format's error record.
// A plain answer, a HEAD request and an event stream (ended when the drain starts) never hold it.

function appWith(drain: Drain, produce: { lines: number; gate?: Promise<void> }) {
  const app = new Hono()
  app.use(drain.middleware())
  app.get('/plain', (c) => c.json({ ok: true }))
  app.get('/lines', (c) => {
    let i = 0
    const enc = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        if (i === 1 && produce.gate) await produce.gate
        if (i >= produce.lines) return ctl.close()
        // Half a line, then the rest: a cut in the middle of a line starts its record on a new line.
        ctl.enqueue(enc.encode(i % 2 === 0 ? `{"i":${i}` : `}\n`))
        i++
      },
    })
    return c.body(body, 200, { 'content-type': 'application/x-ndjson' })
  })
  app.get('/big', (c) => sendRows(c, { columns: [{ name: 'i', type: 'int' }], rows: Array.from({ length: 5_000 }, (_, i) => [i]) } as never))
  app.get('/events', (c) => streamSSE(c, async (s) => {
    for (;;) {
      await s.writeSSE({ event: 'progress', data: '{}' })
      if (s.aborted) return
      await s.sleep(20)
    }
  }))
  return app
}

test('a plain answer is done when it is returned; a stream when its body has been read', async () => {
  const drain = new Drain()
  const app = appWith(drain, { lines: 4 })
  await (await app.request('/plain')).json()
  expect(drain.inflight).toBe(0)
  const res = await app.request('/lines')
  expect(drain.inflight).toBe(1)
  expect(await res.text()).toBe('{"i":0}\n{"i":2}\n')
  expect(drain.inflight).toBe(0)
  const big = await app.request('/big')
  expect(drain.inflight).toBe(1)
  expect(((await big.json()) as { rows: unknown[] }).rows.length).toBe(5_000)
  expect(drain.inflight).toBe(0)
})

test('a HEAD request and a reader that goes away are not left counted', async () => {
  const drain = new Drain()
  const app = appWith(drain, { lines: 1_000 })
  await app.request('/lines', { method: 'HEAD' })
  expect(drain.inflight).toBe(0)
  const res = await app.request('/lines')
  const reader = res.body!.getReader()
  await reader.read()
  expect(drain.inflight).toBe(1)
  await reader.cancel()
  expect(drain.inflight).toBe(0)
})

test('start waits for a stream; cutOff ends it with an UNAVAILABLE record on a line of its own', async () => {
  const drain = new Drain()
  let open!: () => void
  const app = appWith(drain, { lines: 10, gate: new Promise<void>((r) => (open = r)) })
  const res = await app.request('/lines')
  const reader = res.body!.getReader()
  const first = await reader.read() // '{"i":0' — the next part waits on the gate
  expect(new TextDecoder().decode(first.value)).toBe('{"i":0')
  let drained: boolean | undefined
  const started = drain.start(50).then((d) => (drained = d))
  const late = await app.request('/plain')
  expect(late.status).toBe(503)
  await started
  expect(drained).toBe(false)
  expect(drain.inflight).toBe(1)
  const rest = (async () => {
    let text = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
    return text
  })()
  expect(await drain.cutOff(1_000)).toBe(1)
  const text = await rest
  expect(text.startsWith('\n')).toBe(true)
  const record = JSON.parse(text.trim()) as { $error: { code: string; message: string } }
  expect(record.$error.code).toBe('UNAVAILABLE')
  expect(record.$error.message).toContain('shutting down')
  expect(drain.inflight).toBe(0)
  open()
})

test('an event stream (a watch) ends when the drain starts, so it never holds it', async () => {
  const drain = new Drain()
  const app = appWith(drain, { lines: 0 })
  const res = await app.request('/events')
  const reader = res.body!.getReader()
  await reader.read()
  expect(drain.inflight).toBe(1)
  const drained = drain.start(5_000)
  let text = ''
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
  expect(await drained).toBe(true)
  expect(text).toContain('event: error')
  expect(text).toContain('UNAVAILABLE')
})
