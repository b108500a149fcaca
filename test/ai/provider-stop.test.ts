import { afterAll, beforeAll, expect, test } from 'bun:test'
import { openAICompatible } from '../../src/ai/index.ts'
import { assembleChatStream } from '../../src/ai/providers/openai.ts'
import { StoppedError, withStopSignal } from '../../src/compute/index.ts'
import { RowFailure } from '../../src/query/index.ts'
import { holdingServer, until } from './fake-llm.ts'
import type { HoldingServer } from './fake-llm.ts'

// A provider call made under a stop signal (a background job's: src/compute/stop.ts) ends when the stop fires,
// wherever it is: waiting for the headers, reading a stream, waiting at the rate-limit gate a provider's 429 closed,
// or between retries. It fails with StoppedError (its row is not done: neither a result nor an error), and the server
// sees the connection go. Before, a stop waited for the request in flight, so for the slowest answer (or the gate's
// pause). The server holds requests for HOLD_MS; a stopped call must end far sooner (STOP_MS, loose for a busy
// machine): the point is that nobody waits the hold out.

const HOLD_MS = 20_000
const STOP_MS = 5_000

let llm: HoldingServer
// One client per scenario: a gate is per (base URL, key) of a client, and two scenarios close theirs for 20 s.
const held = openAICompatible('stop_held', { baseUrl: 'http://127.0.0.1:1/v1' })
const gated = openAICompatible('stop_gated', { baseUrl: 'http://127.0.0.1:1/v1' })
const retried = openAICompatible('stop_retried', { baseUrl: 'http://127.0.0.1:1/v1' })

const busy = (status: number) => Response.json({ error: { message: 'slow down' } }, { status, headers: { 'retry-after': '20' } })

beforeAll(() => {
  llm = holdingServer((p) => (p.startsWith('stream') ? 'hold-stream' : p.startsWith('hold') ? 'hold' : p === '429' ? busy(429) : p === '503' ? busy(503) : 'answer'), HOLD_MS)
  held.configure({ baseUrl: `${llm.url}/v1`, retries: { max: 4, backoffMs: 500 } })
  gated.configure({ baseUrl: `${llm.url}/v1`, retries: { max: 0 } })
  // Backoffs of a few ms: the retry is then held by the gate the 503's retry-after closed, not by its own sleep.
  retried.configure({ baseUrl: `${llm.url}/v1`, retries: { max: 4, backoffMs: 1, maxBackoffMs: 5 } })
})

afterAll(() => llm?.stop())

const chat = (prompt: string, stream = false) => ({ model: 'm', messages: [{ role: 'user', content: prompt }], ...(stream ? { stream: true } : {}) })
const count = (prompt: string) => llm.started.filter((p) => p === prompt).length

/** Starts `call` under a stop signal, fires the stop once `ready()`, and says what the call ended with and how soon. */
async function stopWhen(ready: () => boolean, call: () => Promise<unknown>): Promise<{ outcome: unknown; ms: number }> {
  const stop = new AbortController()
  const outcome = withStopSignal(stop.signal, call).then((v) => ({ answered: v }), (e: unknown) => e)
  await until('the call to be under way', ready)
  const stoppedAt = performance.now()
  stop.abort()
  const settled = await outcome
  return { outcome: settled, ms: performance.now() - stoppedAt }
}

test('a request waiting for its answer is aborted by the stop: StoppedError at once, the server sees it go, no retry', async () => {
  const { outcome, ms } = await stopWhen(() => count('hold-1') === 1, () => held.client.post(undefined, '/chat/completions', chat('hold-1')))
  expect(outcome).toBeInstanceOf(StoppedError)
  expect(ms).toBeLessThan(STOP_MS)
  await until('the server to see the connection close', () => llm.aborted.includes('hold-1'), STOP_MS)
  // A stop is not a failure worth retrying: nothing was sent again.
  await Bun.sleep(700)
  expect(count('hold-1')).toBe(1)
})

test('a streamed answer stalled mid-stream is aborted by the stop, and the partial answer is not kept', async () => {
  const { outcome, ms } = await stopWhen(() => count('stream-1') === 1, () => held.client.stream(undefined, '/chat/completions', chat('stream-1', true), assembleChatStream))
  expect(outcome).toBeInstanceOf(StoppedError)
  expect(ms).toBeLessThan(STOP_MS)
  await until('the server to see the stream cut', () => llm.aborted.includes('stream-1'), STOP_MS)
  await Bun.sleep(700)
  expect(count('stream-1')).toBe(1)
})

test('a call waiting at the gate a 429 closed (retry-after 20 s) leaves on the stop, and sends nothing', async () => {
  const failed = await gated.client.post(undefined, '/chat/completions', chat('429')).then(() => undefined, (e: unknown) => e)
  expect((failed as Error)?.name).toBe('TransientError')
  expect(gated.client.gate.heldForMs).toBeGreaterThan(10_000)
  // The call is at the gate once it has had a moment (nothing shows it there but that nothing arrives).
  const atGate = Date.now() + 200
  const { outcome, ms } = await stopWhen(() => Date.now() > atGate, () => gated.client.post(undefined, '/chat/completions', chat('after-429')))
  expect(outcome).toBeInstanceOf(StoppedError)
  expect(ms).toBeLessThan(STOP_MS)
  expect(count('after-429')).toBe(0)
})

test('a row between retries (its retry held by the gate a 503 closed) ends on the stop as not done, not as an error', async () => {
  // Stopped a while after the 503 (its backoff is 5 ms), so that the retry is waiting at the gate.
  let closedAt = 0
  const atGate = () => {
    if (!closedAt && count('503') === 1 && retried.client.gate.heldForMs > 10_000) closedAt = Date.now()
    return closedAt > 0 && Date.now() - closedAt > 200
  }
  const { outcome, ms } = await stopWhen(
    atGate,
    () => retried.client.perRow(['503'], () => retried.client.post(undefined, '/chat/completions', chat('503'))),
  )
  expect(ms).toBeLessThan(STOP_MS)
  const rows = (outcome as { answered: unknown[] }).answered
  expect(rows).toHaveLength(1)
  expect(rows[0]).toBeInstanceOf(RowFailure)
  expect((rows[0] as RowFailure).error).toBeInstanceOf(StoppedError)
  expect(count('503')).toBe(1)
})
