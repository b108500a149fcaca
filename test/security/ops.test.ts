import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import type { Tessera } from '../../src/index.ts'
import { MediaStore } from '../../src/media/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'
import { jpeg } from '../media/fixtures.ts'

// Issue 17, findings 5 (the open loopback mode), 8 (reads never write) and 11 (admin token from the environment,
// /metrics behind a token, token scopes normalized at creation).

let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(async () => { await db.close() })

const filesUnder = (dir: string): number => {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length
  } catch {
    return 0
  }
}

describe('finding 5: the open loopback mode answers only its own origin', () => {
  const json = { 'content-type': 'application/json' }
  test('foreign Host values (DNS rebinding), foreign origins, other localhost ports and text/plain bodies are refused', async () => {
    const app = createApp(db)
    const t = await db.createTable('lb', { x: 'int' })
    await t.insert([{ x: 1 }, { x: 2 }])
    const del = (headers: Record<string, string>, body = '{"all": true}') => app.request('http://localhost:8080/api/v1/tables/lb/-/delete', { method: 'POST', headers, body })
    expect((await app.request('http://evil.example:8080/api/v1/dirs')).status).toBe(403)
    expect((await app.request('http://evil.example:8080/')).status).toBe(403)
    expect((await del({ ...json, host: 'rebound.evil.example:8080' })).status).toBe(403)
    expect((await del({ 'content-type': 'text/plain', origin: 'http://evil.example' })).status).toBe(403)
    expect((await del({ 'content-type': 'text/plain' })).status).toBe(415)
    expect((await del({ ...json, origin: 'http://localhost:9999' })).status).toBe(403)
    expect((await del({ ...json, origin: 'null' })).status).toBe(403)
    expect((await del({ ...json, 'sec-fetch-site': 'same-site' })).status).toBe(403)
    expect((await del({ ...json, 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect(await t.count()).toBe(2)
    // The console's own requests, and non-browser clients, work.
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080']) {
      expect((await app.request(`http://${host}/api/v1/dirs`, { headers: { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' } })).status).toBe(200)
      expect((await app.request(`http://${host}/`)).status).toBe(200)
    }
    expect((await del({ ...json, origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' })).status).toBe(200)
    expect(await t.count()).toBe(0)
  })

  test('with tokens, the Host check does not apply (the server may be reached by any name), JSON still must be JSON', async () => {
    const tokens = new TokenStore(db.driver)
    const admin = await tokens.create('lb-admin', { admin: true })
    const app = createApp(db, { authenticate: tokens.authenticate, tokens })
    const auth = { authorization: `Bearer ${admin}` }
    expect((await app.request('http://tessera.example.com/api/v1/dirs', { headers: auth })).status).toBe(200)
    const r = await app.request('http://tessera.example.com/api/v1/dirs', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{"path": "x"}' })
    expect(r.status).toBe(415)
  })
})

describe('finding 8: reads never write to the media store', () => {
  test('an image function in a read-only query keeps its result in the bounded cache; a computed column stores it', async () => {
    const tokens = new TokenStore(db.driver)
    const reader = await tokens.create('img-reader', { scopes: [{ prefix: 'imgs', access: 'read' }] })
    const app = createApp(db, { authenticate: tokens.authenticate, tokens })
    await db.createDir('imgs')
    const t = await db.createTable('imgs/pics', { img: 'image' })
    await t.insert([{ img: await jpeg(96, 64) }])
    const store = db.media.store as MediaStore
    const stored = filesUnder(store.dir)
    const cached = db.media.cache.totalBytes
    for (const width of [16, 24, 32]) {
      const r = await app.request('http://localhost/api/v1/query', {
        method: 'POST',
        headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
        body: JSON.stringify({ table: 'imgs/pics', select: [{ name: 'small', expr: { fn: 'image_resize', args: [{ col: 'img' }], opts: { width } } }] }),
      })
      expect(r.status).toBe(200)
      const ref = ((await r.json()) as { rows: { small: string }[] }).rows[0]!.small
      expect(ref).toMatch(/^media:\/\/[0-9a-f]{64}\.jpg$/)
    }
    expect(filesUnder(store.dir)).toBe(stored)
    expect(db.media.cache.totalBytes).toBeGreaterThan(cached)
    // The same function in a computed column (a write) stores its results.
    await t.addComputedColumn('small', t.c.img.apply('image_resize', [], { width: 16 }))
    expect(filesUnder(store.dir)).toBeGreaterThan(stored)
  })
})

describe('finding 11: tokens and metrics', () => {
  test('a new TESSERA_ADMIN_TOKEN replaces the previous one', async () => {
    const tokens = new TokenStore(db.driver)
    await tokens.setEnvAdmin('first-secret-token-value')
    expect((await tokens.authenticate('first-secret-token-value'))?.admin).toBe(true)
    await tokens.setEnvAdmin('second-secret-token-value')
    expect(await tokens.authenticate('first-secret-token-value')).toBeUndefined()
    expect((await tokens.authenticate('second-secret-token-value'))?.admin).toBe(true)
    // The same value again (a plain restart) keeps it; going back to an old value brings that one back alone.
    await tokens.setEnvAdmin('second-secret-token-value')
    expect((await tokens.authenticate('second-secret-token-value'))?.admin).toBe(true)
    await tokens.setEnvAdmin('first-secret-token-value')
    expect((await tokens.authenticate('first-secret-token-value'))?.admin).toBe(true)
    expect(await tokens.authenticate('second-secret-token-value')).toBeUndefined()
    expect((await tokens.list()).filter((t) => t.name.startsWith('env-admin-') && !t.revoked)).toHaveLength(1)
  })

  test('/metrics needs an admin token unless metricsPublic', async () => {
    const tokens = new TokenStore(db.driver)
    const admin = await tokens.create('m-admin', { admin: true })
    const user = await tokens.create('m-user', { scopes: [{ prefix: 'x', access: 'read' }] })
    const app = createApp(db, { authenticate: tokens.authenticate, tokens })
    expect((await app.request('/metrics')).status).toBe(401)
    expect((await app.request('/metrics', { headers: { authorization: `Bearer ${user}` } })).status).toBe(403)
    expect((await app.request('/metrics', { headers: { authorization: `Bearer ${admin}` } })).status).toBe(200)
    const open = createApp(db, { authenticate: tokens.authenticate, tokens, metricsPublic: true })
    expect((await open.request('/metrics')).status).toBe(200)
  })

  test('scopes are normalized and validated at creation', async () => {
    const tokens = new TokenStore(db.driver)
    const app = createApp(db, { authenticate: tokens.authenticate, tokens })
    const admin = await tokens.create('s-admin', { admin: true })
    const create = (name: string, scopes: unknown) => app.request('/api/v1/tokens', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes }) })
    for (const prefix of ['user_1/', '/user_1', ' user_1', 'a b', 'user_1//x', 'user-1']) {
      const r = await create(`bad${Math.random().toString(36).slice(2, 8)}`, [{ prefix, access: 'write' }])
      expect([prefix, r.status]).toEqual([prefix, 400])
    }
    expect((await create('badaccess', [{ prefix: 'user_1', access: 'admin' }])).status).toBe(400)
    expect((await create('extra', [{ prefix: 'user_1', access: 'read', more: 1 }])).status).toBe(400)
    expect((await create('good', [{ prefix: 'user_1', access: 'read' }, { prefix: 'user_1/sub', access: 'read' }, { prefix: 'user_1', access: 'write' }, { prefix: '/', access: 'read' }])).status).toBe(201)
    const good = (await tokens.list()).find((t) => t.name === 'good')!
    expect(good.scopes).toEqual([{ prefix: 'user_1', access: 'write' }, { prefix: '', access: 'read' }])
  })
})
