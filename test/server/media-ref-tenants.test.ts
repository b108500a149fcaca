import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import type { RemoteTessera } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import type { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { jpeg } from '../media/fixtures.ts'
import { twoTenants } from './fixtures/two-tenants.ts'

// Media is stored content-addressed (media://<sha256>.<ext>), so a hash names an object whoever uploaded it. A scoped
// token may write a store ref only when a table it may read holds it (or the same request uploaded its bytes):
// otherwise tenant B, knowing or guessing the hash of A's file, could learn whether A stored it (the write's answer)
// and then read it through B's own table's media route. The refusal reads the same whether the object exists or not.

let db: Tessera
let app: ReturnType<typeof createApp>
let admin: RemoteTessera
let a: RemoteTessera
let b: RemoteTessera
let bToken: string
let foreignRef: string
/** A well-formed ref of bytes nobody stored. */
const missingRef = `media://${'ab'.repeat(32)}.jpg`

const failure = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`)
/** The refusal with the ref taken out, so a foreign ref's answer and a missing ref's can be compared word for word. */
const withoutRef = (s: string, ref: string) => s.replace(ref, '<ref>')

beforeAll(async () => {
  db = await memoryDb()
  ;({ app, admin, a, b, bToken, foreignRef } = await twoTenants(db))
  expect(foreignRef).toMatch(/^media:\/\/[0-9a-f]{64}\.jpg$/)
  await b.createTable('tenant_b/photos', { id: 'int', photo: 'image' }, { primaryKey: ['id'] })
  await (await b.getTable('tenant_b/photos')).insert([{ id: 1, photo: await jpeg(40, 30, '#20a020') }])
})
afterAll(async () => { await db.close() })

describe("a scoped token may not write another tenant's media ref", () => {
  test('insert: refused, in the same words as a ref that exists nowhere, naming row and column', async () => {
    const t = await b.getTable('tenant_b/photos')
    const foreign = await failure(t.insert([{ id: 2, photo: foreignRef }]))
    const missing = await failure(t.insert([{ id: 2, photo: missingRef }]))
    expect(foreign).toMatch(/^FORBIDDEN: row 0, column 'photo': /)
    expect(withoutRef(foreign, foreignRef)).toBe(withoutRef(missing, missingRef))
    expect(await t.count()).toBe(1)
  })

  test("update and batch update: refused alike; B's row keeps its own image", async () => {
    const t = await b.getTable('tenant_b/photos')
    const mine = (await t.collect()).rows[0]!.photo as string
    const foreign = await failure(t.update({ photo: foreignRef }, { where: t.c.id.eq(1) }))
    const missing = await failure(t.update({ photo: missingRef }, { where: t.c.id.eq(1) }))
    expect(foreign).toMatch(/^FORBIDDEN: .*column 'photo'/)
    expect(withoutRef(foreign, foreignRef)).toBe(withoutRef(missing, missingRef))
    const batch = await failure(t.batchUpdate([{ id: 1, photo: foreignRef }]))
    expect(batch).toMatch(/^FORBIDDEN: row 0, column 'photo': /)
    expect(withoutRef(batch, foreignRef)).toBe(withoutRef(await failure(t.batchUpdate([{ id: 1, photo: missingRef }])), missingRef))
    // A literal expression is a literal value: checked alike.
    const typed = await failure(b.http.request('PATCH', '/api/v1/tables/tenant_b/photos/-/rows', { values: { photo: { lit: foreignRef, type: 'image' } } }))
    expect(withoutRef(typed, foreignRef)).toBe(withoutRef(foreign, foreignRef))
    expect((await t.collect()).rows[0]!.photo).toBe(mine)
  })

  test('import (JSONL and CSV): refused alike, nothing written', async () => {
    const post = async (format: string, body: string) => {
      const res = await app.request(`/api/v1/tables/tenant_b/photos/-/import?format=${format}&createTable=false`, { method: 'POST', headers: { authorization: `Bearer ${bToken}` }, body })
      return `${res.status} ${(await res.json() as { error?: { message?: string } }).error?.message}`
    }
    const foreign = await post('jsonl', `{"id": 7, "photo": "${foreignRef}"}\n`)
    const missing = await post('jsonl', `{"id": 7, "photo": "${missingRef}"}\n`)
    expect(foreign).toMatch(/^403 .*column 'photo'/)
    expect(withoutRef(foreign, foreignRef)).toBe(withoutRef(missing, missingRef))
    expect(await post('csv', `id,photo\n8,${foreignRef}\n`)).toMatch(/^403 .*column 'photo'/)
    expect(await (await b.getTable('tenant_b/photos')).count()).toBe(1)
  })

  test('MCP insert tool: refused alike', async () => {
    const insert = async (ref: string) => {
      const res = await app.request('/api/v1/mcp', {
        method: 'POST',
        headers: { authorization: `Bearer ${bToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'insert', arguments: { table: 'tenant_b/photos', rows: [{ id: 5, photo: ref }] } } }),
      })
      return await res.text()
    }
    const foreign = await insert(foreignRef)
    expect(foreign).toContain("row 0, column 'photo'")
    expect(withoutRef(foreign, foreignRef)).toBe(withoutRef(await insert(missingRef), missingRef))
    expect(await (await b.getTable('tenant_b/photos')).count()).toBe(1)
  })

  test("B cannot download A's object through its own table", async () => {
    const res = await b.http.raw('GET', `/api/v1/tables/tenant_b/photos/-/media?column=photo&ref=${encodeURIComponent(foreignRef)}`)
    expect(res.status).toBe(404)
  })
})

describe('what a scoped token may still reference', () => {
  test("its own tables' media: a value copied between its rows and tables", async () => {
    const t = await b.getTable('tenant_b/photos')
    const mine = (await t.collect()).rows[0]!.photo as string
    await t.insert([{ id: 3, photo: mine }])
    await t.update({ photo: mine }, { where: t.c.id.eq(3) })
    const other = await b.createTable('tenant_b/copies', { photo: 'image' })
    await other.insert([{ photo: mine }])
    const res = await b.http.raw('GET', `/api/v1/tables/tenant_b/copies/-/media?column=photo&ref=${encodeURIComponent(mine)}`)
    expect(res.status).toBe(200)
    await t.delete({ where: t.c.id.eq(3) })
  })

  test('a ref of bytes the same request uploads', async () => {
    const bytes = await jpeg(20, 20, '#2020a0')
    const other = await b.createTable('tenant_b/same_request', { photo: 'image' })
    // The first row uploads the bytes; the second names them by ref (as a client that hashed them itself would).
    const ref = `media://${createHash('sha256').update(bytes).digest('hex')}.jpg`
    await other.insert([{ photo: bytes }, { photo: ref }])
    expect((await other.collect()).rows.map((r) => r.photo)).toEqual([ref, ref])
  })

  test('an admin token writes any ref, as before', async () => {
    const t = await admin.getTable('tenant_b/photos')
    await t.insert([{ id: 9, photo: foreignRef }])
    expect(await t.where(t.c.id.eq(9)).count()).toBe(1)
    await t.delete({ where: t.c.id.eq(9) })
  })
})
