import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { buildConsoleBundle, moduleText } from '../../src/console/build-bundle.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'
import { dataUrl, squarePng } from './fixtures.ts'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

// The console's server side without a browser: the page and bundle, and the API routes it added (media bytes,
// indexes, search), under the same auth as the rest of the API.

let db: Tessera
let app: ReturnType<typeof createApp>
let admin = ''
let reader = ''
let other = ''
let red = ''

const get = (path: string, token = admin) => app.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} })
const post = (path: string, body: unknown, token = admin) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })

beforeAll(async () => {
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  admin = await tokens.create('admin', { admin: true })
  reader = await tokens.create('reader', { scopes: [{ prefix: 'shop', access: 'read' }] })
  other = await tokens.create('other', { scopes: [{ prefix: 'elsewhere', access: 'write' }] })
  app = createApp(db, { tokens, authenticate: tokens.authenticate })
  await db.createDir('shop')
  const t = await db.createTable('shop/items', { name: 'string', photo: 'image?' })
  await t.insert([{ name: 'red square', photo: dataUrl(await squarePng('#d00')) }, { name: 'blue square', photo: dataUrl(await squarePng('#00d')) }, { name: 'no photo' }])
  await t.addEmbeddingIndex('name', { embed: embedders.lexical({ dims: 64 }) })
  red = String((await t.where(t.c.name.eq('red square')).collect()).rows[0]!.photo)
})
afterAll(async () => db.close())

describe('console page and bundle', () => {
  test('GET / serves the console page with a CSP, without a token', async () => {
    const res = await app.request('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    const body = await res.text()
    expect(body).toContain('<div id="app">')
    const js = body.match(/src="(\/console\/app\.js\?v=\w+)"/)![1]!
    const script = await app.request(js)
    expect(script.headers.get('content-type')).toContain('javascript')
    expect((await script.text()).length).toBeGreaterThan(10_000)
    expect((await app.request('/console/app.css')).status).toBe(200)
    const etag = script.headers.get('etag')!
    expect((await app.request('/console/app.js', { headers: { 'if-none-match': etag } })).status).toBe(304)
  })

  test('the committed bundle is what src/console/ui builds to (run `bun src/console/build-bundle.ts` if not)', async () => {
    const committed = readFileSync(join(import.meta.dir, '../../src/console/bundle.generated.ts'), 'utf8')
    expect(committed === moduleText(await buildConsoleBundle())).toBe(true)
  })
})

describe('media route', () => {
  test('serves a thumbnail (webp, no larger than w) and the original bytes of a ref the column holds', async () => {
    const q = new URLSearchParams({ column: 'photo', ref: red, w: '32' })
    const thumb = await get(`/api/v1/tables/shop/items/-/media?${q}`, reader)
    expect(thumb.status).toBe(200)
    expect(thumb.headers.get('content-type')).toBe('image/webp')
    const meta = await (await import('sharp')).default(Buffer.from(await thumb.arrayBuffer())).metadata()
    expect(meta.width).toBe(32)
    q.delete('w')
    const full = await get(`/api/v1/tables/shop/items/-/media?${q}`, reader)
    expect(full.headers.get('content-type')).toBe('image/png')
    expect(full.headers.get('content-security-policy')).toBe('sandbox')
    expect((await (await import('sharp')).default(Buffer.from(await full.arrayBuffer())).metadata()).width).toBe(64)
  })

  test('the token may also come as ?token= (for <img> tags)', async () => {
    const q = new URLSearchParams({ column: 'photo', ref: red, token: reader })
    expect((await app.request(`/api/v1/tables/shop/items/-/media?${q}`)).status).toBe(200)
  })

  test('refuses files the column does not hold, other scopes, and missing tokens', async () => {
    const notHeld = new URLSearchParams({ column: 'photo', ref: '/etc/passwd' })
    const r1 = await get(`/api/v1/tables/shop/items/-/media?${notHeld}`)
    expect(r1.status).toBe(404)
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
    const ok = new URLSearchParams({ column: 'photo', ref: red })
    expect((await get(`/api/v1/tables/shop/items/-/media?${ok}`, other)).status).toBe(403)
    expect((await get(`/api/v1/tables/shop/items/-/media?${ok}`, '')).status).toBe(401)
    const notMedia = new URLSearchParams({ column: 'name', ref: 'red square' })
    expect((await get(`/api/v1/tables/shop/items/-/media?${notMedia}`)).status).toBe(400)
  })
})

describe('indexes and search routes', () => {
  test('lists indexes', async () => {
    const r = (await (await get('/api/v1/tables/shop/items/-/indexes', reader)).json()) as { indexes: { name: string; column: string; dims: number; embed: { modality: string } }[] }
    expect(r.indexes).toEqual([expect.objectContaining({ name: 'idx0', column: 'name', dims: 64, embed: expect.objectContaining({ modality: 'text' }) })])
  })

  test('text search ranks the row sharing words first, with a score', async () => {
    const res = await post('/api/v1/tables/shop/items/-/search', { column: 'name', text: 'blue', k: 2 }, reader)
    expect(res.status).toBe(200)
    const r = (await res.json()) as { columns: { name: string }[]; rows: { name: string; score: number }[] }
    expect(r.rows.length).toBe(2)
    expect(r.rows[0]!.name).toBe('blue square')
    expect(r.rows[0]!.score).toBeGreaterThan(r.rows[1]!.score)
    expect(r.columns.map((c) => c.name)).toEqual(['name', 'photo', 'score'])
  })

  test('hybrid search fuses full text and vectors', async () => {
    const r = (await (await post('/api/v1/tables/shop/items/-/search', { column: 'name', text: 'red square', hybrid: true, k: 3 })).json()) as { rows: { name: string; textRank: number | null }[] }
    expect(r.rows[0]!.name).toBe('red square')
    expect(r.rows[0]!.textRank).toBe(1)
  })

  test('bad requests are 4xx naming the problem', async () => {
    const both = await post('/api/v1/tables/shop/items/-/search', { column: 'name' })
    expect(both.status).toBe(400)
    expect(((await both.json()) as { error: { message: string } }).error.message).toContain('exactly one of text or image')
    const wrongModality = await post('/api/v1/tables/shop/items/-/search', { column: 'name', image: dataUrl(await squarePng('#0d0')) })
    expect(wrongModality.status).toBe(400)
    expect((await post('/api/v1/tables/shop/items/-/search', { column: 'name', text: 'x' }, other)).status).toBe(403)
  })
})
