import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { openAICompatible, withProviderConfigs } from '../../src/ai/index.ts'
import { PGliteDriver } from '../../src/store/index.ts'
import { templateBlob } from '../support/db.ts'
import { fakeServer } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// Two databases in one process, each with its own endpoint and key (Tessera.open({ providers })). A's server says its
// request budget is spent for 20 s. The adaptive gate used to be one per provider client, so B's calls (another
// server, another key) waited those 20 s too; it is now one per (base URL, key).

const compat = openAICompatible('gate_scope', { baseUrl: 'http://127.0.0.1:1/v1', retries: { max: 0 } })
let a: FakeServer
let b: FakeServer
let dbA: Tessera
let dbB: Tessera

const answer = (who: string, headers: Record<string, string> = {}) =>
  Response.json({ id: 'x', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: who } }] }, { headers })

beforeAll(async () => {
  a = fakeServer(() => answer('A', { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20s' }))
  b = fakeServer(() => answer('B'))
  const blob = await templateBlob()
  dbA = await Tessera.fromDriver(await PGliteDriver.open({ loadDataDir: blob }), { providers: { gate_scope: { baseUrl: `${a.url}/v1`, apiKey: 'key-A' } } })
  dbB = await Tessera.fromDriver(await PGliteDriver.open({ loadDataDir: blob }), { providers: { gate_scope: { baseUrl: `${b.url}/v1`, apiKey: 'key-B' } } })
}, 120_000)

afterAll(async () => {
  await dbA?.close()
  await dbB?.close()
  a?.stop()
  b?.stop()
})

test("one database's spent rate-limit budget does not hold another database's calls to another server", async () => {
  const ask = async (db: Tessera) => {
    const t = await db.createTable('gated', { p: 'string' })
    await t.insert([{ p: 'x' }])
    return (await t.select({ a: compat.chat(t.c.p, { model: 'm' }) }).collect()).rows[0]
  }
  expect(await ask(dbA)).toEqual({ a: 'A' })
  const started = Date.now()
  expect(await ask(dbB)).toEqual({ a: 'B' })
  expect(Date.now() - started).toBeLessThan(5_000)
  expect(b.seen[0]!.headers.get('authorization')).toBe('Bearer key-B')

  // A's gate still holds A's own calls (same base URL and key); B's is open.
  const heldFor = (baseUrl: string, apiKey: string) => withProviderConfigs({ gate_scope: { baseUrl, apiKey } }, async () => compat.client.gate.heldForMs)
  expect(await heldFor(`${a.url}/v1`, 'key-A')).toBeGreaterThan(10_000)
  expect(await heldFor(`${b.url}/v1`, 'key-B')).toBe(0)
  // The same server with another key is another account's budget.
  expect(await heldFor(`${a.url}/v1`, 'key-C')).toBe(0)
}, 120_000)
