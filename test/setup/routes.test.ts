import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { connect } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { applySetup, defineSetup, loadRoutes } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/index.ts'
import { memoryDb } from '../support/db.ts'
import { retrievalFunction } from '../../src/ai/index.ts'
import { throwing } from '../support/settle.ts'

// Declared service routes: a setup file declares /ingest, /search and /stats; `tessera serve --setup` (loadRoutes +
// createApp) serves them under /api/v1/app with the API's tokens, validates parameters and results, lists them in
// /openapi.json, and `tessera apply --plan --url` reports route changes against the running server.

const SearchParams = v.object({ q: v.pipe(v.string(), v.minLength(1)), k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50)), 5) })
const Hit = v.object({ id: v.number(), text: v.string(), shout: v.string() })

const setup = defineSetup(async (db) => {
  await db.createDir('app')
  const docs = await db.createTable('app/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await docs.addComputedColumn('shout', docs.c.text.upper())
  db.route.insert('/ingest', docs, { params: v.object({ id: v.number(), text: v.pipe(v.string(), v.maxLength(1000)) }), returns: ['shout'], description: 'Add a document' })
  db.route.query('/search', SearchParams, async ({ q, k }, ctx) => {
    const t = await ctx.table('app/docs')
    return t.where(t.c.text.contains(q)).orderBy(t.c.id).limit(k).select('id', 'text', 'shout')
  }, { result: Hit, description: 'Documents containing a word' })
  db.route.call('/stats', v.object({}), async (_p, ctx) => ({ docs: await (await ctx.table('app/docs')).count() }), { result: v.object({ docs: v.number() }) })
})

let db: Tessera
let app: ReturnType<typeof createApp>
let admin: string
let outsider: string

beforeAll(async () => {
  db = await memoryDb()
  const applied = await applySetup(setup, db as unknown as SetupTarget)
  expect(applied.changes).toContain('note: route POST /api/v1/app/ingest (insert into app/docs; id: number, text: string), served by tessera serve --setup')
  const { routes, pending } = await loadRoutes(setup, db as unknown as SetupTarget)
  expect(pending).toEqual([])
  const tokens = new TokenStore(db.driver)
  admin = await tokens.create('root', { admin: true })
  outsider = await tokens.create('other', { scopes: [{ prefix: 'elsewhere', access: 'write' }] })
  app = createApp(db, { authenticate: tokens.authenticate, tokens, routes })
}, 120_000)
afterAll(async () => { await db.close() })

const post = (path: string, body: unknown, token = admin) =>
  app.request(`/api/v1/app${path}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })

describe('declared routes', () => {
  test('insert returns the computed columns of the new rows; query and call answer typed results', async () => {
    const r = await post('/ingest', { id: 1, text: 'lava flows' })
    expect(r.status).toBe(200)
    expect(await r.json()).toMatchObject({ inserted: 1, rows: [{ id: 1, shout: 'LAVA FLOWS' }] })
    const many = await post('/ingest', { rows: [{ id: 2, text: 'lava tubes' }, { id: 3, text: 'tides' }] })
    expect(((await many.json()) as { rows: unknown[] }).rows).toHaveLength(2)
    const s = await post('/search', { q: 'lava', k: 1 })
    expect(await s.json()).toEqual({ rows: [{ id: 1, text: 'lava flows', shout: 'LAVA FLOWS' }] })
    const d = await post('/search', { q: 'lava' }) // k defaults to 5
    expect(((await d.json()) as { rows: unknown[] }).rows).toHaveLength(2)
    expect(await (await post('/stats', {})).json()).toEqual({ docs: 3 })
  })

  test('parameters are validated before anything runs; errors name the field', async () => {
    const bad = await post('/search', { q: 'lava', k: 500 })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain('k')
    const row = await post('/ingest', { rows: [{ id: 9, text: 'ok' }, { id: 'ten', text: 'x' }] })
    expect(row.status).toBe(400)
    expect(((await row.json()) as { error: { message: string } }).error.message).toContain("row 1, field 'id'")
    expect(await db.getTable('app/docs').then((t) => t.count())).toBe(3)
  })

  test('the same tokens: no token is 401, a token without access to the tables is refused as if they did not exist (404)', async () => {
    expect((await app.request('/api/v1/app/search', { method: 'POST', body: '{"q":"x"}' })).status).toBe(401)
    // The tenant boundary (src/server/tenant.ts): what a token may not read answers like a missing table.
    expect((await post('/search', { q: 'lava' }, outsider)).status).toBe(404)
    expect((await post('/ingest', { id: 5, text: 'x' }, outsider)).status).toBe(404)
    expect((await post('/stats', {}, outsider)).status).toBe(404)
  })

  test('/openapi.json documents the routes with their parameter schemas', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as Record<string, any>
    const search = doc.paths['/api/v1/app/search'].post
    expect(search.summary).toBe('Documents containing a word')
    expect(search.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', properties: { q: { type: 'string', minLength: 1 }, k: { type: 'integer', maximum: 50 } }, required: ['q'] })
    // The signatures name the tables routes write to: only a token that may read them gets them (/openapi.json itself
    // is open to everyone, and its summaries name no table).
    expect(doc['x-tessera-routes']).toEqual([])
    expect(JSON.stringify(doc)).not.toContain('app/docs')
    const signatures = async (token: string) => ((await (await app.request('/openapi.json', { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, any>)['x-tessera-routes'].map((r: { path: string }) => r.path)
    expect(await signatures(admin)).toEqual(['/ingest', '/search', '/stats'])
    // The outsider may not read app/docs: not the insert route's signature (it names the table), the others (they name none).
    expect(await signatures(outsider)).toEqual(['/search', '/stats'])
    expect(await signatures('tsr_unknown')).toEqual([])
  })

  test('apply --plan against the server: no route change for the same setup; changed, added and removed routes are listed', async () => {
    const remote = connect('http://t', { token: admin, fetch: async (r) => app.fetch(r) }) as unknown as SetupTarget
    const same = await applySetup(setup, remote, { plan: true })
    expect(same.changes.filter((c) => c.includes('route'))).toEqual([])
    expect(same.changed).toBe(false)
    const changed = defineSetup(async (s) => {
      const docs = await s.getTable('app/docs')
      s.route.insert('/ingest', docs)
      s.route.query('/search', v.object({ q: v.string() }), async ({ q }, ctx) => (await ctx.table('app/docs')).where((await ctx.table('app/docs')).c.text.contains(q)))
      s.route.call('/ask', v.object({ question: v.string() }), () => 'x')
    })
    const plan = await applySetup(changed, remote, { plan: true })
    expect(plan.changes).toEqual([
      'change route POST /api/v1/app/ingest (insert into app/docs; id: number, text: string) → POST /api/v1/app/ingest (insert into app/docs)',
      'change route POST /api/v1/app/search (query; q: string, k?: integer) → POST /api/v1/app/search (query; q: string)',
      'add route POST /api/v1/app/ask (call; question: string)',
      'remove route POST /api/v1/app/stats (call)',
    ])
    expect(plan.changed).toBe(true)
  })

  test('a retrieval function served as a route: its parameters, description and scoping', async () => {
    const byWord = retrievalFunction({
      name: 'routes_test_by_word', description: 'Documents containing a word',
      params: { word: 'string', k: 'int?' }, paramDescriptions: { word: 'one word' },
      query: async ({ word, k }) => {
        const t = await db.getTable('app/docs')
        return t.where(t.c.text.contains(word)).orderBy(t.c.id).limit(k ?? 10).select('id', 'text')
      },
    })
    const { routes } = await loadRoutes(defineSetup(async (s) => { s.route.query('/by-word', byWord) }), db as unknown as SetupTarget)
    const tokens = new TokenStore(db.driver)
    const own = createApp(db, { authenticate: tokens.authenticate, tokens, routes })
    const ask = (body: unknown, token = admin) => own.request('/api/v1/app/by-word', { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
    expect(await (await ask({ word: 'lava', k: 1 })).json()).toEqual({ rows: [{ id: 1, text: 'lava flows' }] })
    expect(((await (await ask({ word: 'lava' })).json()) as { rows: unknown[] }).rows).toHaveLength(2)
    expect((await ask({ word: 3 })).status).toBe(400)
    // A key it does not take (k misspelled) is refused naming it, not dropped and answered with k's default.
    const extra = await ask({ word: 'lava', limit: 1 })
    expect(extra.status).toBe(400)
    expect(JSON.stringify(await extra.json())).toContain('limit')
    expect((await ask({ word: 'lava' }, outsider)).status).toBe(404) // a table it may not read answers as missing
    const doc = (await (await own.request('/openapi.json')).json()) as Record<string, any>
    expect(doc.paths['/api/v1/app/by-word'].post.summary).toBe('Documents containing a word')
    expect(doc.paths['/api/v1/app/by-word'].post.requestBody.content['application/json'].schema).toMatchObject({ properties: { word: { type: 'string', description: 'one word' } }, required: ['word'] })
  })

  test('route paths are checked when declared', async () => {
    const bad = defineSetup(async (s) => { s.route.call('/Bad Path', v.object({}), () => 1) })
    await expect(await throwing(applySetup(bad, db as unknown as SetupTarget, { plan: true }))).toThrow(/route path '\/Bad Path'/)
    const twice = defineSetup(async (s) => { s.route.call('/a', v.object({}), () => 1); s.route.call('/a', v.object({}), () => 2) })
    await expect(await throwing(applySetup(twice, db as unknown as SetupTarget, { plan: true }))).toThrow(/declared twice/)
  })
})
