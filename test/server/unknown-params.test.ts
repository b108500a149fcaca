import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// A query parameter a route does not take is refused with a 400 naming it (and the parameter meant, when it differs
// only in case or separators), never silently ignored: `?primary_key=id` on an import created a table without a
// primary key and answered 201. The API token may ride in the query string of every route (for what cannot send a
// header: an EventSource, an <img>), so `token` is never unknown.

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  await (await db.createTable('t', { id: 'int', text: 'string' }, { primaryKey: 'id' })).insert([{ id: 1, text: 'one' }])
}, 120_000)
afterAll(async () => { await db?.close() })

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } }
const json = { 'content-type': 'application/json' }

test("an import with a parameter it does not take is refused naming it, and nothing is created", async () => {
  const r = await app.request('/api/v1/tables/people/-/import?format=csv&primary_key=id', { method: 'POST', body: 'id,name\n1,ann\n' })
  expect(r.status).toBe(400)
  const e = (await r.json()) as ErrorBody
  expect(e.error.code).toBe('INVALID_ARGUMENT')
  expect(e.error.message).toContain("unknown query parameter 'primary_key'")
  expect(e.error.message).toContain("did you mean 'primaryKey'")
  expect(e.error.details).toEqual({ parameter: 'primary_key' })
  expect(await db.listTables('')).not.toContain('people')
  // Spelled as the route takes it, the same import works.
  const ok = await app.request('/api/v1/tables/people/-/import?format=csv&primaryKey=id', { method: 'POST', body: 'id,name\n1,ann\n' })
  expect(ok.status).toBe(201)
  expect((await db.getTable('people')).columns().filter((c) => c.primaryKey).map((c) => c.name)).toEqual(['id'])
})

test('the same on every route that reads a set of query parameters', async () => {
  const refused = async (method: string, url: string, body?: string) => {
    const r = await app.request(url, { method, ...(body === undefined ? {} : { body, headers: json }) })
    expect(r.status).toBe(400)
    const e = (await r.json()) as ErrorBody
    expect(e.error.message).toContain("unknown query parameter 'bogus'")
    expect(e.error.details).toEqual({ parameter: 'bogus' })
  }
  await refused('POST', '/api/v1/export?format=csv&bogus=1', JSON.stringify({ table: 't' }))
  await refused('GET', '/api/v1/tables?bogus=1')
  await refused('GET', '/api/v1/dirs?bogus=1')
  await refused('GET', '/api/v1/tables/t?bogus=1')
  await refused('GET', '/api/v1/tables/t/-/rows?limit=5&bogus=1')
  await refused('DELETE', '/api/v1/tables/t?bogus=1')
  await refused('GET', '/api/v1/tables/t/-/media?column=text&ref=x&bogus=1')
  await refused('POST', '/api/v1/query?batchSize=10&bogus=1', JSON.stringify({ table: 't' }))
  await refused('POST', '/api/v1/tables/t/-/query?bogus=1', JSON.stringify({}))
  expect(await db.listTables('')).toContain('t') // the refused drop dropped nothing
})

test('the parameters the client and the console send, and a token in the query string, are taken', async () => {
  for (const url of ['/api/v1/tables?recursive=true', '/api/v1/dirs?recursive=true', '/api/v1/tables/t/-/rows?limit=5&offset=0', '/api/v1/tables?recursive=true&token=anything']) {
    const r = await app.request(url)
    expect(r.status).toBe(200)
  }
  const r = await app.request('/api/v1/export?format=jsonl&batchSize=10', { method: 'POST', headers: json, body: JSON.stringify({ table: 't' }) })
  expect(r.status).toBe(200)
  expect(await r.text()).toBe('{"id":1,"text":"one"}\n')
})

test('with tokens required, the token parameter authenticates and is not an unknown parameter', async () => {
  const tokens = new TokenStore(db.driver)
  const token = await tokens.create('admin-q', { admin: true })
  const secured = createApp(db, { tokens, authenticate: tokens.authenticate })
  const r = await secured.request(`/api/v1/tables?recursive=true&token=${encodeURIComponent(token)}`)
  expect(r.status).toBe(200)
  const bad = await secured.request(`/api/v1/tables?recursive=true&tokn=x&token=${encodeURIComponent(token)}`)
  expect(bad.status).toBe(400)
  expect(((await bad.json()) as ErrorBody).error.message).toContain("unknown query parameter 'tokn'")
})
