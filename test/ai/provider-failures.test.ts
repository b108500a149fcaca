import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import type { Expr } from '../../src/query/index.ts'
import { anthropic, gemini, openAICompatible } from '../../src/ai/index.ts'
import { shownUrl } from '../../src/ai/endpoint.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer, sse } from './fake-llm.ts'
import type { FakeServer, Seen } from './fake-llm.ts'

// What a cell says when a provider's answer is not a good one. Each message names the endpoint without credentials
// (a base URL may carry a proxy's user:password, and per-cell errors are readable by tenants) and what was wrong;
// a stream that ends before its end marker is not stored as the answer; a body that stalls past timeoutMs is a
// timeout, retried like one before the headers. Before, these said "null is not an object (evaluating 'r.choices')",
// "JSON Parse error: Expected '}'", "The operation timed out." with no endpoint, or stored a truncated answer.

let db: Tessera
let t: Table
let llm: FakeServer
const enc = new TextEncoder()
const never = () => new Promise<Response>(() => {})
/** A 200 whose body starts and then never ends. */
const stalled = (type: string, first: string) => new Response(new ReadableStream({ start: (c) => c.enqueue(enc.encode(first)) }), { headers: { 'content-type': type } })
const chunk = (content: string, finish: string | null = null) => ({ id: 'c', model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })

/** The scenario a request asks for: its prompt, in whichever provider's wire format. */
const promptOf = (req: Seen): string => String(req.body.messages?.at(-1)?.content ?? req.body.contents?.[0]?.parts?.[0]?.text)

const answers: Record<string, (req: Seen) => Response | Promise<Response>> = {
  unauthorized: () => Response.json({ error: { message: 'Incorrect API key provided' } }, { status: 401 }),
  html: () => new Response('<html>502 Bad Gateway</html>', { headers: { 'content-type': 'text/html' } }),
  empty: () => new Response(''),
  'openai-cut': () => sse([[undefined, chunk('The transfer of ')], [undefined, chunk('$1')]]),
  'openai-done-only': () => sse([[undefined, chunk('Hi')], [undefined, '[DONE]']]),
  'openai-bad-json': () => new Response(`data: ${JSON.stringify(chunk('a'))}\n\ndata: {oops\n\n`, { headers: { 'content-type': 'text/event-stream' } }),
  'openai-json-not-stream': () => Response.json({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'not streamed' }, finish_reason: 'stop' }] }),
  'anthropic-cut': () => sse([
    ['message_start', { type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', content: [], stop_reason: null, usage: { input_tokens: 5 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'The transfer of $1' } }],
  ]),
  'anthropic-no-start': () => sse([['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a' } }]]),
  'anthropic-far-block': () => sse([
    ['message_start', { type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', content: [], stop_reason: null, usage: { input_tokens: 5 } } }],
    ['content_block_start', { type: 'content_block_start', index: 50_000_000, content_block: { type: 'text', text: 'x' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 50_000_000 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }],
    ['message_stop', { type: 'message_stop' }],
  ]),
  'gemini-cut': () => sse([[undefined, { candidates: [{ content: { role: 'model', parts: [{ text: 'The transfer of $1' }] }, index: 0 }] }]]),
  'gemini-blocked': () => sse([[undefined, { promptFeedback: { blockReason: 'SAFETY' } }]]),
  'gemini-json-list': () => Response.json([
    { candidates: [{ content: { role: 'model', parts: [{ text: 'Listed ' }] }, index: 0 }] },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'chunks.' }] }, finishReason: 'STOP', index: 0 }] },
  ]),
  'stall-headers': never,
  'stall-body': () => stalled('application/json', '{"id":"x","choices":['),
  'stall-stream': () => stalled('text/event-stream', `data: ${JSON.stringify(chunk('a'))}\n\n`),
}

const compat = openAICompatible('failures_compat', { baseUrl: 'http://127.0.0.1:1/v1' })
// The same server behind a base URL with a proxy's credentials in it.
const withCreds = openAICompatible('failures_creds', { baseUrl: 'http://127.0.0.1:1/v1' })
const refused = openAICompatible('failures_refused', { baseUrl: 'http://proxyuser:PROXY-PASSWORD@127.0.0.1:1/v1', retries: { max: 0 } })
const slow = openAICompatible('failures_slow', { baseUrl: 'http://127.0.0.1:1/v1' })

beforeAll(async () => {
  llm = fakeServer((req) => answers[promptOf(req)]?.(req) ?? new Response(`no scenario '${promptOf(req)}'`, { status: 400 }))
  const u = new URL(llm.url)
  compat.configure({ baseUrl: `${llm.url}/v1`, retries: { max: 1, backoffMs: 1 } })
  withCreds.configure({ baseUrl: `http://proxyuser:PROXY-PASSWORD@${u.host}/v1`, apiKey: 'sk-SECRET', retries: { max: 0 } })
  slow.configure({ baseUrl: `${llm.url}/v1`, timeoutMs: 300, retries: { max: 1, backoffMs: 1 } })
  anthropic.configure({ baseUrl: `${llm.url}/v1`, apiKey: 'k', retries: { max: 1, backoffMs: 1 } })
  gemini.configure({ baseUrl: `${llm.url}/v1beta`, apiKey: 'k', retries: { max: 1, backoffMs: 1 } })
  db = await memoryDb()
  t = await db.createTable('failures', { id: 'int', p: 'string' })
}, 120_000)

afterAll(async () => {
  await db?.close()
  llm?.stop()
})

let n = 0
/** One row with prompt `scenario` through `expr(prompt)`, as a computed column storing errors: its value and error, and the requests it took. */
async function cell(scenario: string, expr: (p: Expr) => Expr): Promise<{ value: any; error: string | null; requests: number }> {
  const table = await db.createTable(`f${++n}`, { p: 'string' })
  await table.addComputedColumn('a', expr(table.c.p), { onError: 'ignore' })
  const before = llm.seen.filter((s) => promptOf(s) === scenario).length
  await table.insert([{ p: scenario }], { onError: 'ignore' })
  const row = (await table.select({ value: table.c.a, error: table.c.a.errormsg }).collect()).rows[0] as { value: unknown; error: string | null }
  return { ...row, requests: llm.seen.filter((s) => promptOf(s) === scenario).length - before }
}

describe('credentials in a base URL never appear in messages', () => {
  const host = () => new URL(llm.url).host

  test('an HTTP error, a non-JSON answer and a cut stream name the endpoint without user:password', async () => {
    for (const [scenario, stream] of [['unauthorized', false], ['html', false], ['openai-cut', true]] as const) {
      const { value, error } = await cell(scenario, (p) => withCreds.chat(p, { model: 'm', stream }))
      expect(value).toBeNull()
      expect(error).toContain(`POST http://${host()}/v1/chat/completions`)
      expect(error).not.toContain('PROXY-PASSWORD')
      expect(error).not.toContain('proxyuser')
    }
  })

  test('a connection failure names the endpoint without user:password', async () => {
    const { error } = await cell('anything', (p) => refused.chat(p, { model: 'm' }))
    expect(error).toContain('POST http://127.0.0.1:1/v1/chat/completions failed')
    expect(error).not.toContain('PROXY-PASSWORD')
    expect(error).not.toContain('proxyuser')
  })

  test('shownUrl drops userinfo, query string and fragment', () => {
    expect(shownUrl('https://u:p%40ss@proxy.example:8443/v1/models/g:streamGenerateContent?alt=sse&key=K#x')).toBe('https://proxy.example:8443/v1/models/g:streamGenerateContent')
    expect(shownUrl('not a url with user:secret@host')).not.toContain('secret')
  })
})

describe('a stream that ends without its end marker is a transient error, not a stored answer', () => {
  test('OpenAI: no finish_reason and no [DONE]', async () => {
    for (const fn of [compat.chat, compat.chatCompletions]) {
      const { value, error, requests } = await cell('openai-cut', (p) => fn(p, { model: 'm', stream: true }))
      expect(value).toBeNull()
      expect(error).toBe(`POST ${llm.url}/v1/chat/completions: the stream ended early (no finish_reason and no [DONE]); the partial answer was not kept`)
      expect(requests).toBe(2) // retried once, like a reset
    }
  })

  test('OpenAI: [DONE] without finish_reason is a finished stream', async () => {
    expect(await cell('openai-done-only', (p) => compat.chat(p, { model: 'm', stream: true }))).toEqual({ value: 'Hi', error: null, requests: 1 })
  })

  test('Anthropic: no message_stop', async () => {
    const { value, error, requests } = await cell('anthropic-cut', (p) => anthropic.messages(p, { model: 'm', stream: true }))
    expect(value).toBeNull()
    expect(error).toBe(`POST ${llm.url}/v1/messages: the stream ended early (no message_stop); the partial message was not kept`)
    expect(requests).toBe(2)
  })

  test('Gemini: no finishReason (a blocked prompt, with promptFeedback, is finished)', async () => {
    const cut = await cell('gemini-cut', (p) => gemini.generateContent(p, { model: 'g', stream: true }))
    expect(cut.value).toBeNull()
    expect(cut.error).toBe(`POST ${llm.url}/v1beta/models/g:streamGenerateContent: the stream ended early (no finishReason); the partial answer was not kept`)
    expect(cut.requests).toBe(2)
    const blocked = await cell('gemini-blocked', (p) => gemini.generateContent(p, { model: 'g', stream: true }))
    expect(blocked.error).toBeNull()
    expect(blocked.value.promptFeedback).toEqual({ blockReason: 'SAFETY' })
  })
})

describe('malformed answers say what was wrong and where', () => {
  const endpoint = () => `POST ${llm.url}/v1/chat/completions`

  test('a 200 with an empty body', async () => {
    const { error } = await cell('empty', (p) => compat.chat(p, { model: 'm' }))
    expect(error).toStartWith(`${endpoint()}: HTTP 200 with an empty body`)
  })

  test('a 200 that is not JSON shows what came', async () => {
    const { error } = await cell('html', (p) => compat.chat(p, { model: 'm' }))
    expect(error).toStartWith(`${endpoint()}: the response is not JSON (text/html`)
    expect(error).toContain('<html>502 Bad Gateway</html>')
  })

  test('an event in a stream that is not JSON', async () => {
    const { error } = await cell('openai-bad-json', (p) => compat.chat(p, { model: 'm', stream: true }))
    expect(error).toStartWith(`${endpoint()}: the stream sent an event whose data is not JSON`)
    expect(error).toContain('{oops')
  })

  test('a stream asked for and plain JSON answered: the JSON is the answer', async () => {
    expect(await cell('openai-json-not-stream', (p) => compat.chat(p, { model: 'm', stream: true }))).toEqual({ value: 'not streamed', error: null, requests: 1 })
    const listed = await cell('gemini-json-list', (p) => gemini.generateContent(p, { model: 'g', stream: true }))
    expect(listed.error).toBeNull()
    expect(listed.value.candidates[0].content.parts).toEqual([{ text: 'Listed chunks.' }])
  })

  test('an Anthropic delta for a block never started', async () => {
    const { error } = await cell('anthropic-no-start', (p) => anthropic.messages(p, { model: 'm', stream: true }))
    expect(error).toBe(`POST ${llm.url}/v1/messages: the stream sent content_block_delta for content block 0 before its content_block_start`)
  })

  test('an Anthropic block started far past the blocks so far (a sparse list of 50,000,000 nulls was stored)', async () => {
    const { value, error } = await cell('anthropic-far-block', (p) => anthropic.messages(p, { model: 'm', stream: true }))
    expect(value).toBeNull()
    expect(error).toBe(`POST ${llm.url}/v1/messages: the stream started content block 50000000 after 0 block(s); blocks start in order from 0`)
  })
})

describe('timeouts name the endpoint and what timed out, and are retried', () => {
  const endpoint = () => `POST ${llm.url}/v1/chat/completions`

  test('no headers within timeoutMs', async () => {
    const { error, requests } = await cell('stall-headers', (p) => slow.chat(p, { model: 'm' }))
    expect(error).toBe(`${endpoint()} failed: no response within 300 ms (timeoutMs)`)
    expect(requests).toBe(2)
  })

  test('a body that stalls after the headers', async () => {
    const { error, requests } = await cell('stall-body', (p) => slow.chat(p, { model: 'm' }))
    expect(error).toBe(`${endpoint()}: timed out after 300 ms reading the response body (timeoutMs)`)
    expect(requests).toBe(2)
  })

  test('a stream that stalls', async () => {
    const { error, requests } = await cell('stall-stream', (p) => slow.chat(p, { model: 'm', stream: true }))
    expect(error).toBe(`${endpoint()}: timed out after 300 ms reading the stream (timeoutMs)`)
    expect(requests).toBe(2)
  })
})
