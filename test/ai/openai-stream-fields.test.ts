import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { openAICompatible } from '../../src/ai/index.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer, sse } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// OpenAI-compatible servers (some llama.cpp and vLLM builds) stream chunks without `created` or `model`. The
// assembled response must hold only the fields the stream sent: an undefined field is not JSON, and the cell used
// to fail with "not json?" although the stream was well formed.

let db: Tessera
let server: FakeServer
const bare = openAICompatible('stream_bare', { baseUrl: 'http://127.0.0.1:1/v1' })

beforeAll(async () => {
  server = fakeServer(() => sse([
    [undefined, { id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] }],
    [undefined, { id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ' there' }, finish_reason: 'stop' }] }],
    [undefined, '[DONE]'],
  ]))
  bare.configure({ baseUrl: `${server.url}/v1`, retries: { max: 0, backoffMs: 1 } })
  db = await memoryDb()
})

afterAll(async () => {
  await db?.close()
  server?.stop()
})

test('a stream whose chunks have no created/model is stored as a response without those fields', async () => {
  const t = await db.createTable('nomodel', { id: 'int', p: 'string' })
  await t.addComputedColumn('r', bare.chatCompletions(t.c.p, { model: 'm', stream: true }))
  // onError defaults to 'abort': a cell that fails makes the insert fail, so this also proves there was no error.
  const st = await t.insert([{ id: 1, p: 'hello' }])
  expect(st.numExcs).toBe(0)
  const rows = (await t.select({ r: t.c.r }).collect()).rows as { r: Record<string, unknown> }[]
  expect(rows).toEqual([{ r: {
    id: 'c', object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there' }, finish_reason: 'stop' }],
  } }])
  expect(server.seen.at(-1)!.body.stream).toBe(true)
})

test('the text function over the same stream answers the joined content', async () => {
  const t = await db.createTable('nomodel_text', { id: 'int', p: 'string' })
  await t.addComputedColumn('a', bare.chat(t.c.p, { model: 'm', stream: true }))
  await t.insert([{ id: 1, p: 'hello' }])
  expect((await t.select({ a: t.c.a }).collect()).rows).toEqual([{ a: 'Hi there' }])
})
