import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { killServers, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'

// SIGTERM during a long write: new requests get 503 at once (/health says 'draining'), the write in flight finishes,
// and the process exits 0 with the data dir consistent.

afterAll(killServers)

test('SIGTERM during a long insert: 503 for new requests, the insert commits, exit 0, check clean', async () => {
  const home = join(tempDir(), 'data')
  const port = 21000 + Math.floor(Math.random() * 20000)
  const { proc } = await startServe(home, port, '--drain-timeout', '60s')
  const base = `http://127.0.0.1:${port}/api/v1`
  const json = { 'content-type': 'application/json' }
  expect((await fetch(`${base}/tables`, { method: 'POST', headers: json, body: JSON.stringify({ path: 'big', schema: { id: 'int', text: 'string' }, primaryKey: 'id' }) })).status).toBe(201)

  const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: i, text: `row ${i} with some words in it` }))
  const insert = fetch(`${base}/tables/big/-/rows`, { method: 'POST', headers: json, body: JSON.stringify({ rows }) })
  // The signal comes once the insert is in the server (the in-flight gauge counts it beside the /metrics request that
  // reads it), not after a fixed time: on a fast machine a fixed wait can outlast the whole insert, on a slow one it can
  // end before the body has been sent.
  await untilInFlight(port, 2, 30_000)
  proc.kill('SIGTERM')
  // Once the server has taken the signal (its log line), every new request gets 503. Waiting for that line, not a
  // fixed time: on a loaded machine the serving thread can be inside the insert body's JSON.parse when the signal
  // comes, and a request that arrived meanwhile may be read before the signal's handler runs.
  const line = await untilOutput(proc, 'in-flight request(s)', 10_000)
  expect(line).toContain('SIGTERM: draining')
  expect(line).toMatch(/for 1 in-flight request/)
  const health = await fetch(`http://127.0.0.1:${port}/health`)
  expect(health.status).toBe(503)
  expect(await health.json()).toEqual({ status: 'draining' })
  const late = await fetch(`${base}/tables/big/-/rows`, { method: 'POST', headers: json, body: JSON.stringify({ rows: [{ id: -1, text: 'too late' }] }) })
  expect(late.status).toBe(503)
  expect(((await late.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE')

  const res = await insert
  expect(res.status).toBe(201)
  expect(((await res.json()) as { numInserted: number }).numInserted).toBe(100_000)
  expect(await proc.exited).toBe(0)

  const db = await Tessera.open({ home })
  try {
    const t = await db.getTable('big')
    expect(await t.count()).toBe(100_000)
    expect(await t.where(t.c.id.eq(-1)).count()).toBe(0)
    expect((await db.check()).problems).toEqual([])
  } finally {
    await db.close()
  }
}, 180_000)

/** Polls /metrics until `count` requests are in flight (the polling request is one of them); fails after `ms`. */
async function untilInFlight(port: number, count: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const inFlight = Number(/^tessera_http_requests_in_flight (\d+)$/m.exec(text)?.[1])
    if (inFlight >= count) return
    if (Date.now() > deadline) throw new Error(`${count} requests were never in flight (last: ${inFlight})`)
    await Bun.sleep(10)
  }
}

/** Reads the server's stdout until it has printed `text`, and returns what it printed (fails after `ms`). */
async function untilOutput(proc: ReturnType<typeof Bun.spawn>, text: string, ms: number): Promise<string> {
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
  const deadline = setTimeout(() => void reader.cancel(), ms)
  let output = ''
  try {
    while (!output.includes(text)) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`the server's output ended without '${text}': ${output}`)
      output += new TextDecoder().decode(value)
    }
  } finally {
    clearTimeout(deadline)
    reader.releaseLock()
  }
  return output
}
