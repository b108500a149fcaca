import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

let db: Tessera
let app: ReturnType<typeof createApp>
let tokens: TokenStore
let admin: string
beforeAll(async () => {
  db = await memoryDb()
  tokens = new TokenStore(db.driver)
  admin = await tokens.create('root', { admin: true })
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
})
afterAll(async () => { await db.close() })

const as = (token?: string) => connect('http://t', { ...(token ? { token } : {}), fetch: async (r) => app.fetch(r) })

describe('auth', () => {
  test('tokens are hashed at rest', async () => {
    const r = await db.driver.query<{ hash: string }>(`select hash from tessera.tokens`)
    expect(r.rows.every((x) => x.hash !== admin && /^[0-9a-f]{64}$/.test(x.hash))).toBe(true)
  })

  test('no token → 401; unknown token → 401', async () => {
    expect((await as().listDirs().catch((e: any) => e)).code).toBe('UNAUTHORIZED')
    expect((await as('tsr_nope').listDirs().catch((e: any) => e)).code).toBe('UNAUTHORIZED')
  })

  test('tenants under user_<id>/ cannot see or touch each other', async () => {
    const root = as(admin)
    await root.createDir('user_1')
    await root.createDir('user_2')
    await root.createTable('user_2/secret', { x: 'int' })
    const created = await root.http.request<{ token: string }>('POST', '/api/v1/tokens', { name: 'u1', scopes: [{ prefix: 'user_1', access: 'write' }] })
    const reader = await root.http.request<{ token: string }>('POST', '/api/v1/tokens', { name: 'u1-ro', scopes: [{ prefix: 'user_1', access: 'read' }] })
    const u1 = as(created.token)
    const t = await u1.createTable('user_1/notes', { text: 'string' })
    await t.insert([{ text: 'mine' }])
    expect(await u1.listDirs()).toEqual(['user_1'])
    expect(await u1.listTables('user_1')).toEqual(['user_1/notes'])
    // What a token may not read answers as missing, exactly as a path that does not exist.
    expect((await u1.getTable('user_2/secret').catch((e: any) => e)).code).toBe('TABLE_NOT_FOUND')
    expect((await u1.createTable('user_2/evil', { x: 'int' }).catch((e: any) => e)).code).toBe('FORBIDDEN')
    expect((await u1.http.request<any>('POST', '/api/v1/query', { table: 'user_2/secret' }).catch((e: any) => e)).code).toBe('TABLE_NOT_FOUND')
    expect((await u1.http.request<any>('POST', '/api/v1/query', { table: 'user_1/notes', joins: [{ table: 'user_2/secret', on: { lit: true } }] }).catch((e: any) => e)).code).toBe('TABLE_NOT_FOUND')
    expect((await u1.move('user_1/notes', 'user_2/notes').catch((e: any) => e)).code).toBe('FORBIDDEN')
    expect((await u1.http.request<any>('GET', '/api/v1/tokens').catch((e: any) => e)).code).toBe('FORBIDDEN')
    const ro = as(reader.token)
    const rt = await ro.getTable('user_1/notes')
    expect((await rt.collect()).rows).toEqual([{ text: 'mine' }])
    expect((await rt.insert([{ text: 'no' }]).catch((e: any) => e)).code).toBe('FORBIDDEN')
    await root.http.request('DELETE', '/api/v1/tokens/u1')
    expect((await u1.listDirs().catch((e: any) => e)).code).toBe('UNAUTHORIZED')
  })

  test('openapi and metrics', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as any
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toContain('/api/v1/tables/{path}/-/rows')
    for (const p of ['/api/v1/jobs', '/api/v1/views', '/api/v1/export', '/api/v1/tables/{path}/-/search', '/api/v1/tables/{path}/-/media']) expect(Object.keys(doc.paths)).toContain(p)
    expect(doc.paths['/api/v1/tables'].post.requestBody.content['application/json'].schema.required).toContain('schema')
    expect(JSON.stringify(doc)).not.toContain('$defs')
    expect((await app.request('/metrics')).status).toBe(401)
    const metrics = await (await app.request('/metrics', { headers: { authorization: `Bearer ${admin}` } })).text()
    expect(metrics).toMatch(/tessera_http_requests_total\{method="GET",route="\/api\/v1\/dirs",status="200"\} \d+/)
    expect(metrics).toContain('process_resident_memory_bytes')
  })
})
