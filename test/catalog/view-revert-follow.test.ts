import { afterEach, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { udf } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// Views follow base reverts and updates: a revert is refused up front when any view down the chain could not follow
// it; a view whose latest sync took in several base versions goes back to the base's current rows instead of popping
// them all; a row that re-enters a view with the same inputs keeps its computed values and its place.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { code?: string }) => e)
const ids = async (t: Table) => (await t.select('id').collect()).toObjects().map((r) => (r as { id: number }).id)

describe('base schema revert under a view of a view', () => {
  test('is refused up front, naming the view that could not follow; every view keeps following', async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int', x: 'int?' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, x: 1 }, { id: 2, x: 2 }])
    const v0 = await db.createView('a/v0', t, { where: t.c.id.gt(0) })
    await t.addColumn('c', 'int?')
    const v1 = await db.createView('a/v1', v0, { where: v0.c.id.gt(1) })
    const e = await refusal(t.revert())
    expect(e?.code).toBe('HAS_DEPENDENTS')
    expect(e?.message).toContain("view 'a/v1'")
    expect(e?.message).toContain("'a/t'")
    // Nothing committed: the base keeps its column, and the views follow its next change.
    expect(Object.keys(t.schema())).toEqual(['id', 'x', 'c'])
    expect(Object.keys((await db.getTable('a/v0')).schema())).toEqual(['id', 'x', 'c'])
    await t.insert([{ id: 3, x: 3 }])
    expect(await ids(v0)).toEqual([1, 2, 3])
    expect(await ids(v1)).toEqual([2, 3])
    expect((await db.check()).problems).toEqual([])
  })

  test('over HTTP: 409 naming the view, and the middle view keeps answering queries', async () => {
    db = await memoryDb()
    const app = createApp(db)
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await app.request('http://localhost' + path, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
      return { status: r.status, body: (await r.json()) as { rows?: { id: number }[]; error?: { code: string; message: string } } }
    }
    const gt0 = { fn: 'gt', args: [{ col: 'id' }, { lit: 0 }] }
    expect((await call('POST', '/api/v1/dirs', { path: 'a' })).status).toBeLessThan(300)
    expect((await call('POST', '/api/v1/tables', { path: 'a/t', schema: { id: 'int', x: 'int?' }, primaryKey: 'id' })).status).toBeLessThan(300)
    await call('POST', '/api/v1/tables/a/t/-/rows', { rows: [{ id: 1, x: 1 }, { id: 2, x: 2 }] })
    expect((await call('POST', '/api/v1/views', { path: 'a/v0', base: 'a/t', where: gt0 })).status).toBeLessThan(300)
    await call('POST', '/api/v1/tables/a/t/-/columns', { name: 'c', type: 'int?' })
    expect((await call('POST', '/api/v1/views', { path: 'a/v1', base: 'a/v0', where: gt0 })).status).toBeLessThan(300)
    const rv = await call('POST', '/api/v1/tables/a/t/-/revert')
    expect(rv.status).toBe(409)
    expect(rv.body.error?.code).toBe('HAS_DEPENDENTS')
    expect(rv.body.error?.message).toContain("view 'a/v1'")
    await call('POST', '/api/v1/tables/a/t/-/rows', { rows: [{ id: 3, x: 3 }] })
    for (const p of ['a/t', 'a/v0', 'a/v1']) {
      const q = await call('POST', '/api/v1/query', { table: p })
      expect(q.status).toBe(200)
      expect(q.body.rows!.map((r) => r.id)).toEqual([1, 2, 3])
    }
  })
})

describe('a base revert a view cannot mirror by popping one sync', () => {
  test("views (of views) created after several base versions keep the base's remaining rows", async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int', x: 'int?' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, x: 5 }])
    await t.insert([{ id: 2, x: 6 }])
    const v0 = await db.createView('a/v0', t, { where: t.c.x.gt(0) })
    const v1 = await db.createView('a/v1', v0, { where: v0.c.x.lt(100) })
    await t.revert()
    expect(await ids(t)).toEqual([1])
    expect(await ids(v0)).toEqual([1])
    expect(await ids(v1)).toEqual([1])
    expect(await ids(await db.getTable('a/v1'))).toEqual([1])
    // The base's next version (numbered as the reverted one was) flows in.
    await t.insert([{ id: 3, x: 7 }])
    expect(await ids(v0)).toEqual([1, 3])
    expect(await ids(v1)).toEqual([1, 3])
    await t.revert()
    expect(await ids(v0)).toEqual([1])
    expect(await ids(v1)).toEqual([1])
    expect((await db.check()).problems).toEqual([])
  })

  test('a view that caught up on two base versions at once loses only the reverted one', async () => {
    let fail = true
    const h = udf({ name: 'test_vrf_h', returns: 'int', params: ['int'], fn: (x: number) => { if (fail && x === 99) throw new Error('boom'); return x } })
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int', x: 'int' }, { primaryKey: 'id' })
    const v = await db.createView('a/v', t, { where: t.c.x.gt(0) })
    await v.addComputedColumn('hx', h(v.c.x))
    await t.insert([{ id: 1, x: 1 }])
    await t.insert([{ id: 2, x: 99 }]).catch(() => undefined) // the base commits; the view cannot follow yet
    fail = false
    await t.insert([{ id: 3, x: 3 }]) // the view catches up on both versions in one sync
    expect(await ids(v)).toEqual([1, 2, 3])
    await t.revert()
    expect(await ids(t)).toEqual([1, 2])
    expect(await ids(v)).toEqual([1, 2])
    expect((await v.select('id', 'hx').collect()).toObjects()).toEqual([{ id: 1, hx: 1 }, { id: 2, hx: 99 }])
  })
})

describe('rows that re-enter a view', () => {
  test("keep the view's TypeScript-computed values when their inputs are unchanged", async () => {
    let calls = 0
    const g = udf({ name: 'test_vrf_g', returns: 'int', params: ['int'], fn: (x: number) => (calls++, x + 1) })
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int', x: 'int', s: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, x: 1, s: 'a' }, { id: 2, x: 2, s: 'b' }])
    const v = await db.createView('a/v', t, { where: t.c.x.gt(0) })
    await v.addComputedColumn('vw', g(v.c.x))
    expect(calls).toBe(2)
    await t.update({ s: 'zz' })
    await t.upsert([{ id: 1, s: 'q' }])
    expect(calls).toBe(2)
    expect((await v.select('id', 's', 'vw').collect()).toObjects()).toEqual([{ id: 1, s: 'q', vw: 2 }, { id: 2, s: 'zz', vw: 3 }])
    // An input that changes is computed again, for that row only.
    await t.update({ x: 10 }, { where: t.c.id.eq(2) })
    expect(calls).toBe(3)
    expect((await v.select('id', 'vw').collect()).toObjects()).toEqual([{ id: 1, vw: 2 }, { id: 2, vw: 11 }])
  })

  test("keep their place: the view's order stays the base's after updates", async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int', x: 'int?' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, x: 1 }, { id: 2, x: 2 }, { id: 3, x: 3 }])
    const v = await db.createView('a/v', t, { where: t.c.x.gt(0) })
    await t.update({ x: 10 }, { where: t.c.id.eq(1) })
    await t.upsert([{ id: 2, x: 20 }])
    const order = async (r: Promise<{ toObjects(): unknown[] }>) => (await r).toObjects().map((o) => (o as { id: number }).id)
    expect(await order(v.head(3))).toEqual([1, 2, 3])
    expect(await order(v.collect())).toEqual([1, 2, 3])
    expect((await v.collect()).toObjects()).toEqual([{ id: 1, x: 10 }, { id: 2, x: 20 }, { id: 3, x: 3 }])
  })
})
