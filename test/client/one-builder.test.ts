import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import type { RemoteTable, RemoteTessera } from '../../src/client/index.ts'
import { connect, Query as ClientQuery } from '../../src/client/index.ts'
import type { Table, Tessera } from '../../src/index.ts'
import { agg, Query } from '../../src/query/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// One query builder (issue #21, item 3): the client's table handles give the library's own Query class, run by an
// HTTP executor instead of the planner. The same chain gives the same JSON, the same output names, the same argument
// errors and the same answers, in process and over HTTP.

let db: Tessera
let client: RemoteTessera
let a: Table
let b: Table
let ra: RemoteTable
let rb: RemoteTable

beforeAll(async () => {
  db = await memoryDb()
  const app = createApp(db)
  client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
  a = await db.createTable('ob_a', { id: 'int', s: 'string?', at: 'timestamp', raw: 'binary?' })
  b = await db.createTable('ob_b', { id: 'int', y: 'string' })
  await a.insert([1, 2, 3, 4, 5, 6].map((id) => ({ id, s: id % 2 ? `s${id}` : null, at: new Date(Date.UTC(2024, 0, id)), raw: new Uint8Array([id, 255]) })))
  await a.addComputedColumn('up', a.c.s.upper())
  await b.insert([{ id: 2, y: 'b2' }, { id: 3, y: 'b3' }, { id: 9, y: 'b9' }])
  ra = await client.getTable('ob_a')
  rb = await client.getTable('ob_b')
})
afterAll(async () => { await db.close() })

type Handles<T> = { t: T; o: T }
type AnyQuery = Query<Record<string, unknown>, { path: string; version: number | undefined }>
// Each chain is written once, for a handle pair (t, o), and built on both sides.
const CHAINS: Record<string, (h: Handles<Table | RemoteTable>) => AnyQuery> = {
  'select with default, repeated and given names': ({ t }) => t.select('id', t.c.s.upper(), t.c.s.upper(), t.c.up.errortype, { twice: t.c.id.mul(2) }).orderBy('id'),
  'where twice, orderBy desc, limit, offset': ({ t }) => t.where(t.c.id.gt(1)).where(t.c.id.lt(6)).orderBy(t.c.id, 'desc').limit(2).offset(1),
  'groupBy with aggregates': ({ t }) => t.groupBy(t.c.s.isNull()).select({ missing: t.c.s.isNull(), n: agg.count(), top: agg.max(t.c.id) }).orderBy(t.c.s.isNull()),
  distinct: ({ t }) => t.select('s').distinct().orderBy('s'),
  sample: ({ t }) => t.sample({ n: 3, seed: 7 }).select('id').orderBy('id'),
  'left join': ({ t, o }) => t.join(o as never, { on: t.c.id.eq((o as Table).c.id), how: 'left' }).select({ id: t.c.id, y: (o as Table).c.y }).orderBy(t.c.id),
  'cross join': ({ t, o }) => t.join(o as never, { how: 'cross' }).select({ x: t.c.id, y: (o as Table).c.id }).orderBy(t.c.id).orderBy((o as Table).c.id),
  'timestamps and bytes': ({ t }) => t.select('id', 'at', 'raw').orderBy('id'),
}

const local = () => ({ t: a, o: b }) as Handles<Table | RemoteTable>
const remote = () => ({ t: ra, o: rb }) as Handles<Table | RemoteTable>
const plain = (x: unknown) => JSON.parse(JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? [...v] : v)))

describe('one builder for the library and the client', () => {
  test('the client\'s queries are the library\'s Query class', () => {
    expect(ClientQuery).toBe(Query)
    expect(ra.query()).toBeInstanceOf(Query)
    expect(a.query()).toBeInstanceOf(Query)
    expect(Object.getPrototypeOf(ra.where(ra.c.id.gt(1)))).toBe(Object.getPrototypeOf(a.where(a.c.id.gt(1))))
  })

  for (const [name, chain] of Object.entries(CHAINS)) {
    test(`${name}: same JSON, same answers`, async () => {
      const [lq, rq] = [chain(local()), chain(remote())]
      expect(rq.toJSON()).toEqual(lq.toJSON())
      const [l, r] = [await lq.collect(), await rq.collect()]
      expect(r.columns).toEqual(l.columns)
      expect(r.rows).toEqual(l.rows) // timestamps revived as Date, bytes as Uint8Array, as the library gives them
      expect(await rq.count()).toBe(await lq.count())
      expect(plain((await rq.head(2)).rows)).toEqual(plain((await lq.head(2)).rows))
      expect(plain((await rq.tail(2)).rows)).toEqual(plain((await lq.tail(2)).rows))
      expect(plain(await rq.first())).toEqual(plain(await lq.first()))
      const streamed = async (q: AnyQuery) => { const out = []; for await (const row of q.stream({ batchSize: 2 })) out.push(row); return out }
      expect(await streamed(rq)).toEqual(await streamed(lq))
    })
  }

  test('output naming: the same names on both sides', () => {
    const names = (q: AnyQuery) => q.spec.select!.map((s) => s.name)
    const [l, r] = [CHAINS['select with default, repeated and given names']!(local()), CHAINS['select with default, repeated and given names']!(remote())]
    expect(names(l)).toEqual(['id', 'upper', 'upper_1', 'up_errortype', 'twice'])
    expect(names(r)).toEqual(names(l))
  })

  test('argument errors: the same class, code and message, thrown before anything is sent', async () => {
    const sync: Record<string, (h: Handles<Table | RemoteTable>) => unknown> = {
      'limit -1': ({ t }) => t.limit(-1),
      'limit 1.5': ({ t }) => t.query().limit(1.5),
      'offset -2': ({ t }) => t.query().offset(-2),
      'sample nothing': ({ t }) => t.sample({}),
      'sample both': ({ t }) => t.sample({ n: 1, fraction: 0.5 }),
      'sample fraction 2': ({ t }) => t.sample({ fraction: 2 }),
      'join how outer': ({ t, o }) => t.join(o as never, { on: t.c.id.eq(1), how: 'outer' as never }),
      'join without on': ({ t, o }) => t.join(o as never, { how: 'left' }),
      'cross join with on': ({ t, o }) => t.join(o as never, { how: 'cross', on: t.c.id.eq(1) }),
      'a name used twice': ({ t }) => t.select('id', { id: t.c.s }),
      'update of a join': ({ t, o }) => t.join(o as never, { how: 'cross' }).update({ s: 'x' }),
    }
    const caught = async (f: () => unknown) => {
      try {
        await f()
      } catch (e) {
        return { cls: (e as Error).constructor.name, code: (e as { code?: string }).code, message: (e as Error).message }
      }
      throw new Error('expected an error')
    }
    for (const [what, f] of Object.entries(sync)) {
      const l = await caught(() => f(local()))
      expect({ what, ...(await caught(() => f(remote()))) }).toEqual({ what, ...l })
      expect(l.code).toBe('INVALID_ARGUMENT')
    }
    const async: Record<string, (t: Table | RemoteTable) => Promise<unknown>> = {
      'head -1': (t) => t.head(-1),
      'tail 1.5': (t) => t.tail(1.5),
      'stream batchSize 0': (t) => t.stream({ batchSize: 0 }).next(),
    }
    for (const [what, f] of Object.entries(async)) {
      const [l, r] = [await rejection(() => f(a)), await rejection(() => f(ra))]
      expect({ what, message: (r as Error).message, cls: (r as Error).constructor }).toEqual({ what, message: (l as Error).message, cls: (l as Error).constructor })
    }
  })

  test('a past version is read-only through its queries on both sides, with the library\'s refusal', async () => {
    const [l, r] = [await db.getTable('ob_a:1'), await client.getTable('ob_a:1')]
    expect(r.query().toJSON()).toEqual(l.query().toJSON())
    expect(r.query().toJSON().table).toBe('ob_a:1')
    for (const write of [(q: AnyQuery) => q.update({ s: 'x' }), (q: AnyQuery) => q.delete()]) {
      const [le, re] = [await rejection(() => write(l.where(l.c.id.eq(1)))), await rejection(() => write(r.where(r.c.id.eq(1)) as AnyQuery))]
      expect((re as Error).message).toBe((le as Error).message)
      expect((le as Error).message).toContain('read-only')
    }
    expect((await r.where(r.c.id.gt(4)).collect()).rows.length).toBe(2)
    expect((await r.where(r.c.id.gt(4)).select('id').collect()).rows).toEqual((await l.where(l.c.id.gt(4)).select('id').collect()).rows)
  })
})

describe('the HTTP executor', () => {
  test('update() and delete() through a query write through the table routes and move the handle\'s version', async () => {
    const t = await db.createTable('ob_w', { id: 'int', s: 'string' })
    await t.insert([{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
    const rt = await client.getTable('ob_w')
    const before = rt.version
    const s = await rt.where(rt.c.id.eq(2)).update({ s: rt.c.s.upper() })
    expect(s.version).toBe(before + 1)
    expect(rt.version).toBe(before + 1)
    expect((await t.orderBy('id').select('s').collect()).rows).toEqual([{ s: 'a' }, { s: 'B' }])
    await rt.where(rt.c.id.eq(1)).delete()
    expect(rt.version).toBe(before + 2)
    expect((await t.select('id').collect()).rows).toEqual([{ id: 2 }])
  })

  test('stream() is pinned: rows written while it runs do not appear, and every table of a join is pinned at its own version', async () => {
    const one = await db.createTable('ob_one', { k: 'int' })
    await one.insert([{ k: 1 }])
    const many = await db.createTable('ob_many', { k: 'int' })
    // Three versions on the joined table, one on the other: versions count per table.
    for (const k of [1, 2, 3]) await many.insert([{ k }])
    const [rone, rmany] = [await client.getTable('ob_one'), await client.getTable('ob_many')]
    for (const [o, m] of [[one, many], [rone, rmany]] as const) {
      const q = (o as Table).join(m as never, { how: 'cross' }).select({ a: (o as Table).c.k, b: (m as Table).c.k }).orderBy((m as Table).c.k)
      const seen: unknown[] = []
      for await (const row of q.stream({ batchSize: 1 })) {
        seen.push(row)
        if (seen.length === 1) { await one.insert([{ k: 100 + seen.length }]); await many.insert([{ k: 100 + seen.length }]) }
      }
      expect(seen).toEqual([{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 1, b: 3 }])
      await one.where(one.c.k.gt(99)).delete()
      await many.where(many.c.k.gt(99)).delete()
    }
  })

  test('stream() of a snapshot and of a view over HTTP gives the library\'s rows', async () => {
    const base = await db.createTable('ob_base', { k: 'int' })
    await base.insert([1, 2, 3].map((k) => ({ k })))
    await db.createSnapshot('ob_snap', base)
    await db.createView('ob_view', base, { where: base.c.k.gt(1) })
    await base.insert([{ k: 4 }])
    for (const path of ['ob_snap', 'ob_view']) {
      const all = async (t: Table | RemoteTable) => { const out = []; for await (const r of t.select('k').stream({ batchSize: 2 })) out.push(r); return out }
      const [l, r] = [await all(await db.getTable(path)), await all(await client.getTable(path))]
      expect({ path, rows: r }).toEqual({ path, rows: l })
      expect(l.length).toBe(3)
    }
  })

  test('the JSON form carries insertionOrder for head/tail/stream pages, and the server reads it', async () => {
    const page = ra.query().limit(2)
    const body = { ...page.toJSON(), insertionOrder: 'desc' }
    const r = await client.http.request<{ rows: { id: number }[] }>('POST', '/api/v1/query', { ...body, select: [{ name: 'id', expr: { col: 'id' } }] })
    expect(r.rows.map((x) => x.id)).toEqual([6, 5])
    const bad = await rejection(() => client.http.request('POST', '/api/v1/query', { table: 'ob_a', insertionOrder: 'up' }))
    expect((bad as Error).message).toContain('insertionOrder')
  })
})

test('the builder and the client load no planner, store, catalog, Buffer or node: module (the browser bundle stays small)', () => {
  // Walks the run-time imports (import type is erased) from the client's entry.
  const ROOT = join(import.meta.dir, '..', '..')
  const seen = new Set<string>()
  const bare = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(join(ROOT, file), 'utf8')
    for (const m of text.matchAll(/^(?:import|export)(?![ \t]+type\b)[^'"\n]*?(?:from[ \t]*)?['"]([^'"\n]+)['"]/gm)) {
      const spec = m[1]!
      if (spec.startsWith('.')) visit(relative(ROOT, resolve(dirname(join(ROOT, file)), spec)))
      else bare.add(spec)
    }
    if (/\bBuffer\./.test(text)) bare.add(`Buffer in ${file}`)
  }
  visit('src/client/index.ts')
  expect(seen.has('src/query/query.ts')).toBe(true)
  expect([...seen].filter((f) => /^src\/(store|catalog|server)\/|^src\/query\/(planner|local-executor|executor|plan-cache)\.ts$/.test(f))).toEqual([])
  expect([...bare].filter((s) => s.startsWith('node:') || s.startsWith('Buffer') || s === 'buffer')).toEqual([])
})
