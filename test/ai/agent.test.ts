import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { invokeTools, openai, retrievalFunction, toolMessages, tools, udf } from '../../src/index.ts'
import type { Tessera } from '../../src/index.ts'
import { followUp, TOOL_MAX_ROWS, toolCallsOf } from '../../src/ai/index.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// The agent pattern as computed columns, as the README shows it: prompt → LLM with tools → tool results → final
// answer, with a fake OpenAI server that asks for a tool when it has no tool results and answers from them otherwise.

let db: Tessera
let llm: FakeServer

beforeAll(async () => {
  llm = fakeServer((req) => {
    const messages = req.body.messages as { role: string; content: unknown; tool_call_id?: string }[]
    const toolMsgs = messages.filter((m) => m.role === 'tool')
    if (toolMsgs.length) {
      return Response.json({ id: 'c2', object: 'chat.completion', model: req.body.model, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `From the tools: ${toolMsgs.map((m) => m.content).join(' | ')}` } }] })
    }
    const prompt = String(messages.at(-1)!.content)
    const call = prompt.includes('weather')
      ? { id: 'call_w', type: 'function', function: { name: 'weather', arguments: JSON.stringify({ city: 'Reykjavik' }) } }
      : { id: 'call_k', type: 'function', function: { name: 'search_kb', arguments: JSON.stringify({ topic: 'volcano', k: 1 }) } }
    return Response.json({ id: 'c1', object: 'chat.completion', model: req.body.model, choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [call] } }] })
  })
  openai.configure({ baseUrl: `${llm.url}/v1`, apiKey: 'k', retries: { max: 1, backoffMs: 5 } })
  db = await memoryDb()
}, 120_000)
afterAll(async () => {
  await db.close()
  llm.stop()
})

describe('agent pattern', () => {
  test('the README example: tools from a UDF and a retrieval function, four computed columns', async () => {
    // --- README: AI applications / agent ---
    await db.createDir('app')
    const docs = await db.createTable('app/docs', { id: 'int', topic: 'string', text: 'string' })
    await docs.insert([{ id: 1, topic: 'volcano', text: 'Lava flows downhill.' }, { id: 2, topic: 'ocean', text: 'Tides follow the moon.' }])

    const searchKb = retrievalFunction({
      name: 'search_kb', description: 'Up to k documents about a topic',
      params: { topic: 'string', k: 'int' },
      query: ({ topic, k }) => docs.where(docs.c.topic.eq(topic)).limit(k).select({ text: docs.c.text }),
    })
    const weather = udf({ name: 'weather', returns: 'json', params: ['string'], fn: (city: string) => ({ city, celsius: 4 }) })
    const toolbox = tools([searchKb, { udf: weather, description: 'Current weather in a city', params: { city: 'string' } }])

    const chat = await db.createTable('app/chat', { id: 'int', prompt: 'string' })
    await chat.addComputedColumn('response', openai.chatCompletions(chat.c.prompt, { model: 'gpt-4o-mini', tools: toolbox }))
    await chat.addComputedColumn('tool_results', invokeTools(toolbox, chat.c.response))
    await chat.addComputedColumn('answer', openai.chat(toolMessages(chat.c.prompt, chat.c.response, chat.c.tool_results), { model: 'gpt-4o-mini' }))
    await chat.insert([{ id: 1, prompt: 'What do my notes say about volcanoes?' }, { id: 2, prompt: 'What is the weather in Reykjavik?' }])
    const rows = (await chat.select('id', 'tool_results', 'answer').orderBy(chat.c.id).collect()).rows
    // --- end of README example ---

    expect(rows[0]!.tool_results).toEqual([{ id: 'call_k', name: 'search_kb', args: { topic: 'volcano', k: 1 }, result: [{ text: 'Lava flows downhill.' }] }])
    expect(rows[0]!.answer).toBe('From the tools: [{"text":"Lava flows downhill."}]')
    expect(rows[1]!.tool_results).toEqual([{ id: 'call_w', name: 'weather', args: { city: 'Reykjavik' }, result: { city: 'Reykjavik', celsius: 4 } }])
    expect(rows[1]!.answer).toBe('From the tools: {"city":"Reykjavik","celsius":4}')
    // The final request carried the whole conversation in the chat wire format.
    const final = llm.seen.filter((s) => s.body.messages.some((m: { role: string }) => m.role === 'tool')).at(-1)!
    expect(final.body.messages).toEqual([
      { role: 'user', content: 'What is the weather in Reykjavik?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_w', type: 'function', function: { name: 'weather', arguments: '{"city":"Reykjavik"}' } }] },
      { role: 'tool', tool_call_id: 'call_w', content: '{"city":"Reykjavik","celsius":4}' },
    ])
    expect(final.body.tools).toBeUndefined()
    // The first request described both tools.
    expect(llm.seen[0]!.body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['search_kb', 'weather'])
  })

  test('tool parameters from a valibot schema; bad arguments and unknown tools become error entries the LLM can read', async () => {
    const add = udf({ name: 'add_numbers', returns: 'float', params: ['float', 'float'], fn: (a: number, b: number) => a + b })
    const [spec] = tools([{ udf: add, description: 'Adds two numbers', params: v.object({ a: v.pipe(v.number(), v.description('first')), b: v.number() }) }])
    expect(spec!.args).toEqual(['a', 'b'])
    expect(spec!.parameters).toMatchObject({ type: 'object', properties: { a: { type: 'number', description: 'first' }, b: { type: 'number' } }, required: ['a', 'b'] })
    const t = await db.createTable('calc', { id: 'int', r: 'json' })
    const call = (name: string, args: unknown) => ({ choices: [{ message: { role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: { name, arguments: JSON.stringify(args) } }] } }] })
    const malformed = { choices: [{ message: { role: 'assistant', tool_calls: [{ id: 'y', type: 'function', function: { name: 'add_numbers', arguments: '{"a": 1,' } }] } }] }
    await t.insert([{ id: 1, r: call('add_numbers', { a: 2, b: 3.5 }) }, { id: 2, r: call('add_numbers', { a: 'two', b: 1 }) }, { id: 3, r: call('nope', {}) }, { id: 4, r: { choices: [{ message: { role: 'assistant', content: 'no tools' } }] } }, { id: 5, r: malformed }])
    const rows = (await t.select({ out: invokeTools(tools([{ udf: add, description: 'Adds', params: { a: 'float', b: 'float' } }]), t.c.r) }).orderBy(t.c.id).collect()).rows
    expect(rows[0]!.out).toEqual([{ id: 'x', name: 'add_numbers', args: { a: 2, b: 3.5 }, result: 5.5 }])
    expect((rows[1]!.out as { error: string }[])[0]!.error).toContain("argument 'a' must be float")
    expect((rows[2]!.out as { error: string }[])[0]!.error).toContain("no tool named 'nope'")
    expect(rows[3]!.out).toEqual([])
    expect((rows[4]!.out as { error: string }[])[0]!.error).toContain('the arguments are not a JSON object: {"a": 1,')
    expect(() => tools([{ udf: add, description: 'a', params: {} }, { udf: add, description: 'b', params: {} }])).toThrow(/two tools are named/)
    expect(() => tools([{ udf: add, description: 'a' } as never])).toThrow(/needs params/)
  })

  test('an argument the tool does not take is an error entry naming it, for a UDF and a retrieval function', async () => {
    const mul = udf({ name: 'mul_numbers', returns: 'float', params: ['float', 'float'], fn: (a: number, b: number) => a * b })
    const docs = await db.createTable('extra_docs', { id: 'int', topic: 'string' })
    await docs.insert([{ id: 1, topic: 'volcano' }, { id: 2, topic: 'volcano' }])
    const byTopic = retrievalFunction({
      name: 'agent_by_topic', description: 'Documents about a topic', params: { topic: 'string', k: 'int?' },
      query: ({ topic, k }) => docs.where(docs.c.topic.eq(topic)).orderBy(docs.c.id).limit(k ?? 10).select({ id: docs.c.id }),
    })
    const toolbox = tools([byTopic, { udf: mul, description: 'Multiplies', params: { a: 'float', b: 'float' } }])
    const t = await db.createTable('extra_calls', { id: 'int', r: 'json' })
    const call = (name: string, args: unknown) => ({ choices: [{ message: { role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: { name, arguments: JSON.stringify(args) } }] } }] })
    // 'limit' for k: dropped, the call ran with k's default and answered both rows as if asked for them.
    await t.insert([{ id: 1, r: call('agent_by_topic', { topic: 'volcano', limit: 1 }) }, { id: 2, r: call('mul_numbers', { a: 2, b: 3, c: 4 }) }, { id: 3, r: call('agent_by_topic', { topic: 'volcano', k: 1 }) }])
    const rows = (await t.select({ out: invokeTools(toolbox, t.c.r) }).orderBy(t.c.id).collect()).rows as { out: { result?: unknown; error?: string }[] }[]
    expect(rows[0]!.out[0]).toMatchObject({ error: "agent_by_topic(): unknown argument 'limit'; it takes topic, k" })
    expect(rows[0]!.out[0]!.result).toBeUndefined()
    expect(rows[1]!.out[0]).toMatchObject({ error: "mul_numbers(): unknown argument 'c'; it takes a, b" })
    expect(rows[2]!.out[0]!.result).toEqual([{ id: 1 }])
  })

  test('a retrieval function called as a tool answers at most TOOL_MAX_ROWS rows, whatever k the LLM asks', async () => {
    const many = await db.createTable('tool_cap_docs', { id: 'int' })
    await many.insert(Array.from({ length: TOOL_MAX_ROWS + 5 }, (_, id) => ({ id })))
    const all = retrievalFunction({
      name: 'agent_all_ids', description: 'ids', params: { k: 'int' },
      query: ({ k }) => many.orderBy(many.c.id).limit(k).select({ id: many.c.id }),
    })
    const t = await db.createTable('tool_cap_calls', { id: 'int', r: 'json' })
    await t.insert([{ id: 1, r: { choices: [{ message: { role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: { name: 'agent_all_ids', arguments: JSON.stringify({ k: 1_000_000_000 }) } }] } }] } }])
    const [row] = (await t.select({ out: invokeTools(tools([all]), t.c.r) }).collect()).rows as { out: { result: unknown[] }[] }[]
    expect(row!.out[0]!.result).toHaveLength(TOOL_MAX_ROWS)
    // Called in a query by its author, it answers what its query says.
    expect(((await t.select({ ids: all(TOOL_MAX_ROWS + 5) }).collect()).rows[0]!.ids as unknown[]).length).toBe(TOOL_MAX_ROWS + 5)
  })

  test("arguments outside the tool's schema (picklist, bounds, lengths, items) are error entries; the UDF does not run", async () => {
    const ran: unknown[] = []
    const forecast = udf({ name: 'forecast_days', returns: 'json', params: ['string', 'string', 'int', 'json'], fn: (city: string, unit: string, days: number, hours: unknown) => (ran.push(city), { city, unit, days, hours }) })
    const [spec] = tools([{
      udf: forecast, description: 'Forecast',
      params: v.object({
        city: v.pipe(v.string(), v.minLength(1), v.maxLength(20)),
        unit: v.picklist(['c', 'f']),
        days: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(7)),
        hours: v.optional(v.array(v.pipe(v.number(), v.minValue(0), v.maxValue(23)))),
      }),
    }])
    const t = await db.createTable('schema_calls', { id: 'int', r: 'json' })
    const call = (args: unknown) => ({ choices: [{ message: { role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: { name: 'forecast_days', arguments: JSON.stringify(args) } }] } }] })
    const ok = { city: 'Oslo', unit: 'c', days: 3, hours: [6, 18] }
    await t.insert([
      { id: 1, r: call(ok) },
      { id: 2, r: call({ ...ok, unit: 'kelvin' }) },
      { id: 3, r: call({ ...ok, days: 30 }) },
      { id: 4, r: call({ ...ok, city: '' }) },
      { id: 5, r: call({ ...ok, city: 'A'.repeat(21) }) },
      { id: 6, r: call({ ...ok, hours: [1, 24] }) },
      { id: 7, r: call({ ...ok, days: 0 }) },
    ])
    const rows = (await t.select({ out: invokeTools([spec!], t.c.r) }).orderBy(t.c.id).collect()).rows as { out: { result?: unknown; error?: string }[] }[]
    expect(rows[0]!.out[0]!.result).toEqual(ok)
    expect(rows.slice(1).map((r) => r.out[0]!.error)).toEqual([
      `forecast_days(): argument 'unit' must be one of "c", "f", got "kelvin"`,
      "forecast_days(): argument 'days' must be at most 7, got 30",
      "forecast_days(): argument 'city' must be at least 1 characters, got 0",
      "forecast_days(): argument 'city' must be at most 20 characters, got 21",
      "forecast_days(): argument 'hours[1]' must be at most 23, got 24",
      "forecast_days(): argument 'days' must be at least 1, got 0",
    ])
    expect(ran).toEqual(['Oslo'])
  })

  test('Gemini function calls that carry ids are answered under those ids (two calls of one function stay paired)', () => {
    const gem = { candidates: [{ content: { role: 'model', parts: [
      { functionCall: { id: 'fc_b', name: 'weather', args: { city: 'Bergen' } } },
      { functionCall: { id: 'fc_o', name: 'weather', args: { city: 'Oslo' } } },
    ] } }] }
    const calls = toolCallsOf(gem)
    expect(calls.map((c) => c.id)).toEqual(['fc_b', 'fc_o'])
    // Results in another order than the calls: each answer names its call.
    const results = [{ ...calls[1]!, result: { celsius: 2 } }, { ...calls[0]!, result: { celsius: 9 } }]
    expect(followUp('weather?', gem, results).at(-1)).toEqual({ role: 'user', parts: [
      { functionResponse: { id: 'fc_o', name: 'weather', response: { result: { celsius: 2 } } } },
      { functionResponse: { id: 'fc_b', name: 'weather', response: { result: { celsius: 9 } } } },
    ] })
  })

  test('a response with no turn to continue (blocked, empty) is a per-cell error saying so, not a null message', async () => {
    const t = await db.createTable('no_turn', { id: 'int', q: 'string', r: 'json' })
    await t.insert([
      { id: 1, q: 'a', r: { candidates: [{ finishReason: 'SAFETY', index: 0 }] } },
      { id: 2, q: 'b', r: { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } } },
      { id: 3, q: 'c', r: { choices: [] } },
      { id: 4, q: 'd', r: { choices: [{ index: 0, finish_reason: 'content_filter' }] } },
      { id: 5, q: 'e', r: { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }] } },
    ])
    const st = await t.addComputedColumn('msgs', toolMessages(t.c.q, t.c.r, invokeTools([], t.c.r)), { onError: 'ignore' })
    expect(st.numExcs).toBe(4)
    const rows = (await t.select({ id: t.c.id, msgs: t.c.msgs, e: t.c.msgs.errormsg }).orderBy(t.c.id).collect()).rows
    expect(rows.map((r) => r.e)).toEqual([
      'toolMessages(): the Gemini response has no candidates[0].content to continue (finishReason "SAFETY")',
      'toolMessages(): the Gemini response has no candidates[0].content to continue (the prompt was blocked: PROHIBITED_CONTENT)',
      'toolMessages(): the chat completion has no choices[0].message to continue (choices is empty)',
      'toolMessages(): the chat completion has no choices[0].message to continue (finish_reason "content_filter")',
      null,
    ])
    expect(rows[4]!.msgs).toEqual([{ role: 'user', content: 'e' }, { role: 'assistant', content: 'hi' }])
  })

  test('tool calls and follow-up messages in the Anthropic, Gemini and Responses formats', () => {
    const results = [{ id: 'toolu_1', name: 'weather', args: { city: 'Oslo' }, result: { celsius: 2 } }]
    const claude = { id: 'm', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'checking' }, { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } }] }
    expect(toolCallsOf(claude)).toEqual([{ id: 'toolu_1', name: 'weather', args: { city: 'Oslo' } }])
    expect(followUp('weather?', claude, results)).toEqual([
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: claude.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{"celsius":2}' }] },
    ])
    const gem = { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Oslo' } } }] } }] }
    expect(toolCallsOf(gem)).toEqual([{ id: 'weather_0', name: 'weather', args: { city: 'Oslo' } }])
    expect(followUp('weather?', gem, [{ ...results[0]!, id: 'weather_0' }])).toEqual([
      { role: 'user', parts: [{ text: 'weather?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Oslo' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { result: { celsius: 2 } } } }] },
    ])
    const resp = { output: [{ type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' }] }
    expect(toolCallsOf(resp)).toEqual([{ id: 'call_1', name: 'weather', args: { city: 'Oslo' } }])
    expect(followUp('weather?', resp, [{ ...results[0]!, id: 'call_1', error: 'down' }]).at(-1)).toEqual({ type: 'function_call_output', call_id: 'call_1', output: '{"error":"down"}' })
  })
})
