import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { anthropic, gemini } from '../../src/ai/index.ts'
import { AdaptiveGate, holdFromHeaders, parseResetMs } from '../../src/ai/limits.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer, PNG_1x1, sse } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// Anthropic's Messages API and Gemini's generateContent / batchEmbedContents against fake servers speaking their
// wire formats, and the adaptive limits read from the providers' rate-limit headers.

let db: Tessera
let t: Table
let claude: FakeServer
let google: FakeServer
let claudeCalls = 0

const PNG_B64 = PNG_1x1.slice(PNG_1x1.indexOf(',') + 1)
const WEATHER = [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, fn: 'x', args: ['city'] }]

beforeAll(async () => {
  claude = fakeServer((req) => {
    claudeCalls++
    const first = req.body.messages[0]
    if (first.content === 'FORBIDDEN') return Response.json({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is bad' } }, { status: 400 })
    if (first.content === 'overloaded' && claudeCalls % 2 === 1) return Response.json({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { status: 529 })
    if (req.body.stream) {
      return sse([
        ['message_start', { type: 'message_start', message: { id: 'msg_s', type: 'message', role: 'assistant', model: req.body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }],
        ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
        ['ping', { type: 'ping' }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'check.' } }],
        ['content_block_stop', { type: 'content_block_stop', index: 0 }],
        ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }],
        ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "San' } }],
        ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' Francisco"}' } }],
        ['content_block_stop', { type: 'content_block_stop', index: 1 }],
        ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } }],
        ['message_stop', { type: 'message_stop' }],
      ])
    }
    const content = req.body.tools
      ? [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Lyon' } }]
      : [{ type: 'text', text: `${req.body.model}: ${JSON.stringify(first.content).slice(0, 40)}` }]
    return Response.json({ id: 'msg_1', type: 'message', role: 'assistant', model: req.body.model, content, stop_reason: req.body.tools ? 'tool_use' : 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 7 } },
      { headers: { 'anthropic-ratelimit-requests-remaining': '10', 'anthropic-ratelimit-requests-reset': new Date(Date.now() + 60_000).toISOString() } })
  })
  google = fakeServer((req) => {
    if (req.path.endsWith(':batchEmbedContents')) {
      return Response.json({ embeddings: req.body.requests.map((r: any) => ({ values: [r.content.parts[0].text.length, r.outputDimensionality ?? 0] })) })
    }
    if (req.path.endsWith(':streamGenerateContent')) {
      return sse([
        [undefined, { candidates: [{ content: { role: 'model', parts: [{ text: 'The weather ' }] }, index: 0 }], modelVersion: 'gemini-s' }],
        [undefined, { candidates: [{ content: { role: 'model', parts: [{ text: 'is mild.' }] }, index: 0 }], modelVersion: 'gemini-s' }],
        [undefined, { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { totalTokenCount: 9 }, modelVersion: 'gemini-s' }],
      ])
    }
    if (req.path.endsWith(':generateContent')) {
      const parts = req.body.contents[0].parts
      if (parts[0].text === 'FORBIDDEN') return Response.json({ error: { code: 400, message: 'Invalid argument', status: 'INVALID_ARGUMENT' } }, { status: 400 })
      const answer = req.body.tools
        ? [{ functionCall: { name: 'get_weather', args: { city: 'Berlin' } } }]
        : [{ text: parts.map((p: any) => (p.text ? 'text' : Object.keys(p)[0])).join('+') }]
      return Response.json({ candidates: [{ content: { role: 'model', parts: answer }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 }, modelVersion: 'gemini-test' })
    }
    return new Response('not found', { status: 404 })
  })
  anthropic.configure({ baseUrl: `${claude.url}/v1`, apiKey: 'ant-key', retries: { max: 3, backoffMs: 5 } })
  gemini.configure({ baseUrl: `${google.url}/v1beta`, apiKey: 'goog-key', retries: { max: 3, backoffMs: 5 } })
  db = await memoryDb()
  t = await db.createTable('qs', { id: 'int', q: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, q: 'weather?' }])
}, 120_000)
afterAll(async () => {
  await db.close()
  claude.stop()
  google.stop()
})

describe('anthropic provider', () => {
  test('messages: headers, top-level system, max_tokens, tools as input_schema; the whole message with tool_use kept', async () => {
    const rows = (await t.select({ r: anthropic.messages(t.c.q, { model: 'claude-test', system: 'be brief', max_tokens: 256, tools: WEATHER, temperature: 0 }) }).collect()).rows as { r: any }[]
    const req = claude.seen.at(-1)!
    expect(req.path).toBe('/v1/messages')
    expect(req.headers.get('x-api-key')).toBe('ant-key')
    expect(req.headers.get('anthropic-version')).toBe('2023-06-01')
    expect(req.headers.get('authorization')).toBeNull()
    expect(req.body).toEqual({
      model: 'claude-test', max_tokens: 256, system: 'be brief', temperature: 0,
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: WEATHER[0]!.parameters }],
    })
    expect(rows[0]!.r.stop_reason).toBe('tool_use')
    expect(rows[0]!.r.content[1]).toEqual({ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Lyon' } })
  })

  test('max_tokens defaults to 1024; system messages in a message list move to the system field', async () => {
    await t.select({ r: anthropic.messages([{ role: 'system', content: 'S' }, { role: 'user', content: 'hi' }], { model: 'c' }) }).collect()
    expect(claude.seen.at(-1)!.body).toEqual({ model: 'c', max_tokens: 1024, system: 'S', messages: [{ role: 'user', content: 'hi' }] })
  })

  test('a system message given as text blocks is sent as those blocks, not as "[object Object]"', async () => {
    const blocks = [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Cite files.', cache_control: { type: 'ephemeral' } }]
    await t.select({ r: anthropic.messages([{ role: 'system', content: blocks }, { role: 'user', content: 'hi' }], { model: 'c', system: 'First.' }) }).collect()
    expect(claude.seen.at(-1)!.body.system).toEqual([{ type: 'text', text: 'First.' }, ...blocks])
    expect(claude.seen.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'hi' }])
    // Anything else is refused naming the message, before a request.
    const sent = claude.seen.length
    const q = await db.createTable('sysblocks', { id: 'int', m: 'json' })
    await q.insert([{ id: 1, m: [{ role: 'user', content: 'a' }, { role: 'system', content: [{ type: 'image', source: {} }] }] }])
    const st = await q.addComputedColumn('r', anthropic.messages(q.c.m, { model: 'c' }), { onError: 'ignore' })
    expect(st.numExcs).toBe(1)
    const [row] = (await q.select({ e: q.c.r.errormsg }).collect()).rows
    expect(row!.e).toContain(`anthropic.messages(): message 1 (role 'system') needs a string content or a list of {type: 'text', text} blocks, got {"type":"image","source":{}} at content[0]`)
    expect(claude.seen.length).toBe(sent)
  })

  test('streaming: text deltas joined, tool input assembled from input_json_delta, stop_reason and usage from message_delta', async () => {
    const rows = (await t.select({ r: anthropic.messages(t.c.q, { model: 'claude-s', stream: true }) }).collect()).rows as { r: any }[]
    expect(claude.seen.at(-1)!.body.stream).toBe(true)
    expect(rows[0]!.r).toEqual({
      id: 'msg_s', type: 'message', role: 'assistant', model: 'claude-s', stop_reason: 'tool_use', stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 30 },
      content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'San Francisco' } }],
    })
  })

  test('vision: a base64 image block before the text', async () => {
    const rows = (await t.select({ r: anthropic.vision('describe', PNG_1x1, { model: 'claude-v' }) }).collect()).rows
    expect(claude.seen.at(-1)!.body.messages).toEqual([{ role: 'user', content: [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } }, { type: 'text', text: 'describe' },
    ] }])
    expect(String(rows[0]!.r)).toStartWith('claude-v: [{"type":"image"')
  })

  test('529 overloaded is retried; 400 is a per-cell error naming the provider message', async () => {
    const q = await db.createTable('afail', { id: 'int', q: 'string' })
    await q.insert([{ id: 1, q: 'overloaded' }, { id: 2, q: 'FORBIDDEN' }])
    const st = await q.addComputedColumn('a', anthropic.messages(q.c.q, { model: 'c' }), { onError: 'ignore' })
    expect(st.numExcs).toBe(1)
    const rows = (await q.select({ a: q.c.a, em: q.c.a.errormsg }).orderBy(q.c.id).collect()).rows as { a: any; em: unknown }[]
    expect(rows[0]!.a.content[0].text).toBe('c: "overloaded"')
    expect(rows[1]!.a).toBeNull()
    expect(String(rows[1]!.em)).toContain('HTTP 400')
    expect(String(rows[1]!.em)).toContain('prompt is bad')
  })
})

describe('gemini provider', () => {
  test('generateContent: model path, key header, systemInstruction, tools as functionDeclarations (schema subset)', async () => {
    const rows = (await t.select({ r: gemini.generateContent(t.c.q, { model: 'gemini-test', system: 'terse', tools: WEATHER, generationConfig: { temperature: 0 } }) }).collect()).rows as { r: any }[]
    const req = google.seen.at(-1)!
    expect(req.path).toBe('/v1beta/models/gemini-test:generateContent')
    expect(req.headers.get('x-goog-api-key')).toBe('goog-key')
    expect(req.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'weather?' }] }],
      systemInstruction: { parts: [{ text: 'terse' }] },
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }],
      generationConfig: { temperature: 0 },
    })
    expect(rows[0]!.r.candidates[0].content.parts[0]).toEqual({ functionCall: { name: 'get_weather', args: { city: 'Berlin' } } })
    expect(rows[0]!.r.usageMetadata.totalTokenCount).toBe(6)
  })

  test('stream: streamGenerateContent?alt=sse, text parts joined, the function call kept, usage from the last chunk', async () => {
    const rows = (await t.select({ r: gemini.generateContent(t.c.q, { model: 'gemini-s', stream: true }) }).collect()).rows as { r: any }[]
    const req = google.seen.at(-1)!
    expect(req.path).toBe('/v1beta/models/gemini-s:streamGenerateContent')
    expect(req.body.stream).toBeUndefined()
    expect(rows[0]!.r).toEqual({
      modelVersion: 'gemini-s', usageMetadata: { totalTokenCount: 9 },
      candidates: [{ index: 0, finishReason: 'STOP', content: { role: 'model', parts: [{ text: 'The weather is mild.' }, { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }] } }],
    })
  })

  test('chat-style messages become contents (assistant → model); vision sends inline_data', async () => {
    await t.select({ r: gemini.generateContent([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }], { model: 'g' }) }).collect()
    expect(google.seen.at(-1)!.body.contents).toEqual([{ role: 'user', parts: [{ text: 'a' }] }, { role: 'model', parts: [{ text: 'b' }] }, { role: 'user', parts: [{ text: 'c' }] }])
    const rows = (await t.select({ r: gemini.vision('what?', PNG_1x1, { model: 'g' }) }).collect()).rows
    expect(google.seen.at(-1)!.body.contents[0].parts).toEqual([{ text: 'what?' }, { inline_data: { mime_type: 'image/png', data: PNG_B64 } }])
    expect(rows).toEqual([{ r: 'text+inline_data' }])
  })

  test('embeddings: batchEmbedContents with model names and outputDimensionality; a 400 is a per-cell error', async () => {
    const rows = (await t.select({ e: gemini.embeddings(t.c.q, { model: 'gemini-embedding-001', dimensions: 2 }) }).collect()).rows
    const req = google.seen.at(-1)!
    expect(req.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents')
    expect(req.body).toEqual({ requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'weather?' }] }, outputDimensionality: 2 }] })
    expect(Array.from(rows[0]!.e as number[])).toEqual([8, 2])
    const q = await db.createTable('gfail', { id: 'int', q: 'string' })
    await q.insert([{ id: 1, q: 'FORBIDDEN' }])
    const st = await q.addComputedColumn('a', gemini.generateContent(q.c.q, { model: 'g' }), { onError: 'ignore' })
    expect(st.numExcs).toBe(1)
  })
})

describe('adaptive limits', () => {
  test('reset times in the providers\' formats', () => {
    expect(parseResetMs('1s')).toBe(1000)
    expect(parseResetMs('6m0s')).toBe(360_000)
    expect(parseResetMs('20ms')).toBe(20)
    expect(parseResetMs('1h2m3.5s')).toBe(3_723_500)
    expect(parseResetMs('2')).toBe(2000)
    expect(parseResetMs(new Date(Date.now() + 5000).toISOString())).toBeGreaterThan(3000)
    expect(parseResetMs('soon')).toBeUndefined()
  })

  test('an exhausted budget or a retry-after holds new requests; remaining budget does not', () => {
    expect(holdFromHeaders(new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1.5s' }), 200)).toBe(1500)
    expect(holdFromHeaders(new Headers({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '250ms', 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': '9s' }), 200)).toBe(250)
    expect(holdFromHeaders(new Headers({ 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': new Date(Date.now() + 2000).toISOString() }), 200)).toBeGreaterThan(1000)
    expect(holdFromHeaders(new Headers({ 'retry-after': '3' }), 429)).toBe(3000)
    expect(holdFromHeaders(new Headers({ 'retry-after': '3' }), 200)).toBe(0)
    expect(holdFromHeaders(new Headers({ 'x-ratelimit-remaining-requests': '4', 'x-ratelimit-reset-requests': '1s' }), 200)).toBe(0)
  })

  test('the gate delays the next request until the window reopens', async () => {
    const gate = new AdaptiveGate()
    gate.note(new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '200ms' }), 200)
    expect(gate.heldForMs).toBeGreaterThan(100)
    const t0 = performance.now()
    await gate.wait()
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150)
    expect(gate.heldForMs).toBe(0)
  })
})
