import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { llamacpp, ollama, openai, vllm } from '../../src/ai/index.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer, PNG_1x1, sse } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'
import { throwing } from '../support/settle.ts'

// OpenAI's wire format against a fake server: chat completions with tool calls (whole message kept), streaming
// assembled from chunks, the Responses API, vision input, and the failure paths (429 + retry-after, 5xx retried,
// 400 as a per-cell error). The OpenAI-compatible servers use the same functions under their own names and URLs.

let db: Tessera
let t: Table
let server: FakeServer
let calls503 = 0
let calls429 = 0

const toolCallResponse = (body: Record<string, any>) => ({
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: body.model,
  choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null,
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } }],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
})

beforeAll(async () => {
  server = fakeServer((req) => {
    const last = req.body.messages?.at(-1)?.content
    if (req.path === '/v1/chat/completions') {
      if (last === 'FORBIDDEN') return Response.json({ error: { message: 'bad prompt', type: 'invalid_request_error' } }, { status: 400 })
      if (last === 'flaky' && ++calls503 === 1) return new Response('overloaded', { status: 503 })
      if (last === 'limited' && ++calls429 === 1) return Response.json({ error: { message: 'slow down' } }, { status: 429, headers: { 'retry-after': '0.3' } })
      if (req.body.stream) {
        return sse([
          [undefined, { id: 'c2', object: 'chat.completion.chunk', created: 2, model: req.body.model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }],
          [undefined, { id: 'c2', object: 'chat.completion.chunk', created: 2, model: req.body.model, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] }],
          [undefined, { id: 'c2', object: 'chat.completion.chunk', created: 2, model: req.body.model, choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] }],
          [undefined, { id: 'c2', object: 'chat.completion.chunk', created: 2, model: req.body.model, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }] }],
          [undefined, { id: 'c2', object: 'chat.completion.chunk', created: 2, model: req.body.model, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }] }],
          [undefined, { id: 'c2', object: 'chat.completion.chunk', created: 2, model: req.body.model, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }, finish_reason: 'tool_calls' }] }],
          [undefined, { id: 'c2', object: 'chat.completion.chunk', created: 2, model: req.body.model, choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }],
          [undefined, '[DONE]'],
        ])
      }
      if (req.body.tools) return Response.json(toolCallResponse(req.body))
      const text = Array.isArray(last) ? last.map((p: any) => p.type).join('+') : String(last).toUpperCase()
      return Response.json({ id: 'c1', object: 'chat.completion', created: 1, model: req.body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] })
    }
    if (req.path === '/v1/responses') {
      return Response.json({ id: 'resp_1', object: 'response', status: 'completed', model: req.body.model,
        output: [{ type: 'function_call', id: 'fc_1', call_id: 'call_r1', name: 'get_weather', arguments: '{"city":"Rome"}', status: 'completed' }] })
    }
    if (req.path.endsWith('/embeddings')) {
      return Response.json({ object: 'list', data: req.body.input.map((s: string, index: number) => ({ object: 'embedding', index, embedding: [s.length, 1] })), model: req.body.model })
    }
    return new Response('not found', { status: 404 })
  })
  openai.configure({ baseUrl: `${server.url}/v1`, apiKey: 'sk-test', retries: { max: 3, backoffMs: 5 } })
  db = await memoryDb()
  t = await db.createTable('qs', { id: 'int', q: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, q: 'weather in Paris?' }])
}, 120_000)
afterAll(async () => {
  await db.close()
  server.stop()
})

const WEATHER = [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, fn: 'x', args: ['city'] }]

describe('openai provider', () => {
  test('chat_completions keeps the whole message: tool calls, finish reason, usage; tools sent in the chat wire shape', async () => {
    const st = await t.addComputedColumn('resp', openai.chatCompletions(t.c.q, { model: 'gpt-test', system: 'be terse', tools: WEATHER, tool_choice: 'auto' }))
    expect(st.numExcs).toBe(0)
    expect(t.schema().resp).toBe('json?')
    const req = server.seen.at(-1)!
    expect(req.path).toBe('/v1/chat/completions')
    expect(req.headers.get('authorization')).toBe('Bearer sk-test')
    expect(req.headers.get('content-type')).toBe('application/json')
    expect(req.body).toEqual({
      model: 'gpt-test',
      messages: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: WEATHER[0]!.parameters } }],
      tool_choice: 'auto',
    })
    const [row] = (await t.select('resp').collect()).rows as { resp: any }[]
    expect(row!.resp.choices[0].message.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }])
    expect(row!.resp.choices[0].finish_reason).toBe('tool_calls')
    expect(row!.resp.usage.total_tokens).toBe(15)
  })

  test('stream: true sends stream + include_usage and assembles content and tool-call fragments', async () => {
    const rows = (await t.select({ r: openai.chatCompletions(t.c.q, { model: 'gpt-s', stream: true }) }).collect()).rows as { r: any }[]
    const req = server.seen.at(-1)!
    expect(req.body.stream).toBe(true)
    expect(req.body.stream_options).toEqual({ include_usage: true })
    expect(rows[0]!.r).toEqual({
      id: 'c2', object: 'chat.completion', created: 2, model: 'gpt-s',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'Hello', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] } }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    })
  })

  test('responses API: input, instructions, tools in the Responses shape; the output items are kept', async () => {
    const rows = (await t.select({ r: openai.responses(t.c.q, { model: 'gpt-r', system: 'sys', tools: WEATHER }) }).collect()).rows as { r: any }[]
    const req = server.seen.at(-1)!
    expect(req.path).toBe('/v1/responses')
    expect(req.body).toEqual({ model: 'gpt-r', input: 'weather in Paris?', instructions: 'sys', tools: [{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: WEATHER[0]!.parameters }] })
    expect(rows[0]!.r.output[0]).toMatchObject({ type: 'function_call', call_id: 'call_r1', name: 'get_weather' })
  })

  test('vision: the image goes as a base64 data URL image_url part after the text', async () => {
    const rows = (await t.select({ r: openai.vision('what is this?', PNG_1x1, { model: 'gpt-v', detail: 'low' }) }).collect()).rows
    const req = server.seen.at(-1)!
    expect(req.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: PNG_1x1, detail: 'low' } }] }])
    expect(req.body.detail).toBeUndefined()
    expect(rows).toEqual([{ r: 'text+image_url' }])
  })

  test('429 with retry-after holds every request for the hint, then succeeds; 5xx retried; 400 is a per-cell error', async () => {
    const q = await db.createTable('fails', { id: 'int', q: 'string' })
    await q.insert([{ id: 1, q: 'limited' }, { id: 2, q: 'flaky' }, { id: 3, q: 'FORBIDDEN' }, { id: 4, q: 'ok' }])
    const t0 = performance.now()
    const st = await q.addComputedColumn('a', openai.chat(q.c.q, { model: 'm' }), { onError: 'ignore' })
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250) // retry-after: 0.3 s was honoured
    expect(st.numExcs).toBe(1)
    const rows = (await q.select({ id: q.c.id, a: q.c.a, et: q.c.a.errortype, em: q.c.a.errormsg }).orderBy(q.c.id).collect()).rows
    expect(rows.map((r) => r.a)).toEqual(['LIMITED', 'FLAKY', null, 'OK'])
    expect(rows[2]!.et).toBe('HttpError')
    expect(String(rows[2]!.em)).toContain('HTTP 400')
    expect(String(rows[2]!.em)).toContain('bad prompt')
    expect(String(rows[2]!.em)).not.toContain('sk-test')
    // Both were answered after one failed try (a failing batch is re-run row by row under onError 'ignore', so the
    // servers may see the good rows again).
    expect(calls429).toBeGreaterThanOrEqual(2)
    expect(calls503).toBeGreaterThanOrEqual(2)
  })

  test('OpenAI-compatible servers: own function names, base URL from the environment or configure(), no key needed', async () => {
    process.env.TESSERA_OLLAMA_BASE_URL = `${server.url}/v1`
    try {
      const rows = (await t.select({ c: ollama.chat(t.c.q, { model: 'llama3.2' }), e: ollama.embeddings(t.c.q, { model: 'nomic-embed-text' }) }).collect()).rows
      expect(rows[0]!.c).toBe('WEATHER IN PARIS?')
      expect(Array.from(rows[0]!.e as number[])).toEqual([17, 1])
      const req = server.seen.at(-1)!
      expect(req.headers.get('authorization')).toBeNull()
    } finally {
      delete process.env.TESSERA_OLLAMA_BASE_URL
    }
    vllm.configure({ baseUrl: `${server.url}/v1`, apiKey: 'vllm-key' })
    const v = (await t.select({ c: vllm.chat(t.c.q, { model: 'qwen' }) }).collect()).rows
    expect(v[0]!.c).toBe('WEATHER IN PARIS?')
    expect(server.seen.at(-1)!.headers.get('authorization')).toBe('Bearer vllm-key')
    // llama.cpp's default URL is its llama-server port on loopback: nothing listens there, so a transient error.
    llamacpp.configure({ baseUrl: 'http://127.0.0.1:9/v1', retries: { max: 0 } })
    await expect(await throwing(t.select({ c: llamacpp.chat(t.c.q, { model: 'x' }) }).collect())).toThrow(/POST http:\/\/127.0.0.1:9\/v1\/chat\/completions failed/)
  })
})
