import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { invokeTools, openAICompatible, tools } from '../../src/ai/index.ts'
import { udf } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// invokeTools over rows whose tools or responses fail. A plain UDF reports a row's failure as a value (RowFailure),
// not by throwing, and invokeTools used to store that value as the result ("returned [...] not json?", with the tool
// spec dumped) instead of the call's {error}. A response whose tool_calls is not a list made the whole batch throw a
// raw TypeError after the other rows' tools had run, and the row-by-row retry ran those (side-effecting) tools again.

let db: Tessera
let llm: FakeServer
const compat = openAICompatible('tool_failures', { baseUrl: 'http://127.0.0.1:1/v1' })
const sent: string[] = []

const sendEmail = udf({ name: 'tool_failures_send_email', returns: 'json', params: ['string'], fn: (to: string) => (sent.push(to), { ok: true }) })
const weather = udf({
  name: 'tool_failures_weather', returns: 'json', params: ['string'],
  fn: (city: string) => {
    if (city.startsWith('bad')) throw new Error(`weather service down for ${city}`)
    return { city, celsius: 4 }
  },
})
const box = tools([
  { udf: sendEmail, name: 'send_email', description: 'Send an email', params: { to: 'string' } },
  { udf: weather, name: 'weather', description: 'Weather in a city', params: { city: 'string' } },
])

beforeAll(async () => {
  // The prompt says which tool to call with which argument ('weather:Oslo'); 'weird:...' sends tool_calls as an
  // object keyed by index, as some compatible servers do.
  llm = fakeServer((req) => {
    const [tool, arg] = String(req.body.messages.at(-1).content).split(':') as [string, string]
    const call = { id: `c_${arg}`, type: 'function', function: { name: tool === 'weird' ? 'send_email' : tool, arguments: JSON.stringify(tool === 'weather' ? { city: arg } : { to: arg }) } }
    const tool_calls = tool === 'weird' ? { 0: call } : [call]
    return Response.json({ id: 'x', choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls } }] })
  })
  compat.configure({ baseUrl: `${llm.url}/v1`, retries: { max: 0, backoffMs: 1 } })
  db = await memoryDb()
}, 120_000)

afterAll(async () => {
  await db?.close()
  llm?.stop()
})

test("a tool that fails for one row: that call's result is {error} with the tool's own message", async () => {
  const t = await db.createTable('tool_error', { id: 'int', prompt: 'string' })
  await t.addComputedColumn('response', compat.chatCompletions(t.c.prompt, { model: 'm', tools: box }))
  await t.addComputedColumn('results', invokeTools(box, t.c.response))
  // onError defaults to 'abort': the insert itself failing would mean a cell failed.
  await t.insert([{ id: 1, prompt: 'weather:Oslo' }, { id: 2, prompt: 'weather:bad city' }])
  const rows = (await t.select('id', 'results').orderBy(t.c.id).collect()).rows
  expect(rows).toEqual([
    { id: 1, results: [{ id: 'c_Oslo', name: 'weather', args: { city: 'Oslo' }, result: { city: 'Oslo', celsius: 4 } }] },
    { id: 2, results: [{ id: 'c_bad city', name: 'weather', args: { city: 'bad city' }, error: 'weather service down for bad city' }] },
  ])
})

test("a malformed tool_calls fails that row alone, with a message saying what was wrong; other rows' tools run once", async () => {
  sent.length = 0
  const t = await db.createTable('tool_dup', { id: 'int', prompt: 'string' })
  await t.addComputedColumn('response', compat.chatCompletions(t.c.prompt, { model: 'm', tools: box }), { onError: 'ignore' })
  await t.addComputedColumn('results', invokeTools(box, t.c.response), { onError: 'ignore' })
  const st = await t.insert([{ id: 1, prompt: 'send_email:alice' }, { id: 2, prompt: 'weird:carol' }, { id: 3, prompt: 'send_email:bob' }], { onError: 'ignore' })
  expect(st.numExcs).toBe(1)
  expect([...sent].sort()).toEqual(['alice', 'bob'])
  const rows = (await t.select('id', 'results', t.c.results.errormsg).orderBy(t.c.id).collect()).rows as { id: number; results: unknown; results_errormsg: string | null }[]
  expect(rows[0]).toEqual({ id: 1, results: [{ id: 'c_alice', name: 'send_email', args: { to: 'alice' }, result: { ok: true } }], results_errormsg: null })
  expect(rows[2]).toEqual({ id: 3, results: [{ id: 'c_bob', name: 'send_email', args: { to: 'bob' }, result: { ok: true } }], results_errormsg: null })
  expect(rows[1]!.results).toBeNull()
  expect(rows[1]!.results_errormsg).toStartWith("invokeTools(): cannot read the tool calls: the response's choices[0].message.tool_calls is not a list: got an object")
})
