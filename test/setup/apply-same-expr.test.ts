import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { openAICompatible } from '../../src/ai/index.ts'
import { applySetup, defineSetup, diffRoutes } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { fakeServer } from '../ai/fake-llm.ts'
import type { FakeServer } from '../ai/fake-llm.ts'
import { memoryDb, templateBlob, tempDir } from '../support/db.ts'

// Applying a setup file again must change nothing when its definitions are those that exist. The catalog keeps an
// expression as jsonb, which hands its options back in another key order (`stop` before `model`) and a Date literal
// as its ISO text: compared as printed text, an LLM column with ifExists 'replace' was dropped and recomputed (every
// cell a provider call) on every deploy.

let db: Tessera
let server: FakeServer
const llm = openAICompatible('setup_same_llm', { baseUrl: 'http://127.0.0.1:1/v1' })

beforeAll(async () => {
  server = fakeServer((req) => Response.json({ id: 'c1', object: 'chat.completion', created: 1, model: req.body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }))
  llm.configure({ baseUrl: `${server.url}/v1`, retries: { max: 0, backoffMs: 1 } })
  db = await memoryDb()
})

afterAll(async () => {
  await db?.close()
  server?.stop()
})

test("a second apply keeps an LLM column whose options come back from the catalog in another key order (ifExists 'replace')", async () => {
  const target = db as unknown as SetupTarget
  const setup = defineSetup(async (s) => {
    const t = await s.createTable('chat', { id: 'int', prompt: 'string' }, { primaryKey: 'id' })
    await t.addComputedColumn('answer', llm.chat(t.c.prompt, { model: 'gpt-x', stop: ['END'], extra: { zeta: 1, alpha: [{ y: 2, b: 3 }] } }), { ifExists: 'replace', onError: 'ignore' })
  })
  expect((await applySetup(setup, target)).changed).toBe(true)
  const t = await db.getTable('chat')
  await t.insert([{ id: 1, prompt: 'a' }, { id: 2, prompt: 'b' }])
  const calls = server.seen.length
  const versions = (await t.history()).length

  expect(await applySetup(setup, target)).toEqual({ changes: [], changed: false })
  expect(await applySetup(setup, target, { plan: true })).toEqual({ changes: [], changed: false })
  expect(server.seen.length).toBe(calls) // nothing was recomputed
  expect((await t.history()).length).toBe(versions)

  // A real change is still seen: another option value, or the same options with another onError.
  const changed = defineSetup(async (s) => {
    const c = await s.createTable('chat', { id: 'int', prompt: 'string' }, { primaryKey: 'id' })
    await c.addComputedColumn('answer', llm.chat(c.c.prompt, { model: 'gpt-x', stop: ['STOP'], extra: { zeta: 1, alpha: [{ y: 2, b: 3 }] } }), { ifExists: 'replace', onError: 'ignore' })
  })
  expect((await applySetup(changed, target, { plan: true })).changes).toEqual([expect.stringMatching(/^replace computed column chat\.answer = setup_same_llm\.chat\(prompt, .*"STOP".*\(backfill of 2 rows\)$/)])
})

test('a Date literal and a JSON literal with keys in another order are the same expression, in the next process', async () => {
  // As `tessera apply` twice: the second run reads the expression back from the data dir, not from memory.
  const home = join(tempDir(), 'data')
  const setup = defineSetup(async (s) => {
    const t = await s.createTable('events', { id: 'int', at: 'timestamp?', j: 'json?' })
    await t.addComputedColumn('recent', t.c.at.gt(new Date('2024-01-01T00:00:00Z')).and(t.c.j.get('k').eq({ b: 1, a: 2 })), { ifExists: 'replace' })
  })
  const first = await Tessera.open({ home, restoreFrom: await templateBlob() })
  try {
    expect((await applySetup(setup, first as unknown as SetupTarget)).changed).toBe(true)
  } finally {
    await first.close()
  }
  const second = await Tessera.open({ home })
  try {
    expect(await applySetup(setup, second as unknown as SetupTarget)).toEqual({ changes: [], changed: false })
  } finally {
    await second.close()
  }
})

test('a served route whose JSON schema lists its keys in another order is not a change', () => {
  const declared = { kind: 'call' as const, path: '/ask', params: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }
  const served = { path: '/ask', params: { required: ['q'], properties: { q: { type: 'string' } }, type: 'object' }, kind: 'call' as const }
  expect(diffRoutes([served], [declared])).toEqual([])
  expect(diffRoutes([served], [{ ...declared, params: { ...declared.params, required: [] } }])).toEqual([expect.stringMatching(/^change route /)])
})
