import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { RemoteTable, RemoteTessera } from '../../src/client/index.ts'
import { connect, RequestError, TesseraError } from '../../src/client/index.ts'
import type { Table, Tessera } from '../../src/index.ts'
import { agg } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// The client's stream() pages by keyset where the library's does (one table in insertion order, keysetEligible):
// each POST /query page carries the `keyset` the previous answer gave ({"after": the last row's position}) instead of
// an offset, and must return exactly what collect() returns at the pinned version, in the same order, through
// deletes (gaps in the positions), updates and filters. Ordered, joined and aggregating queries still page by offset.
// The server's side (validation, bounds, combinations) is test/server/query-keyset.test.ts.

let db: Tessera
let client: RemoteTessera
/** Every POST /api/v1/query body the client sent, in order. */
const bodies: Record<string, unknown>[] = []
let t: Table
let rt: RemoteTable
let rows: number

beforeAll(async () => {
  db = await memoryDb()
  const app = createApp(db)
  client = connect('http://127.0.0.1', {
    fetch: async (req) => {
      if (req.method === 'POST' && new URL(req.url).pathname === '/api/v1/query') bodies.push((await req.clone().json()) as Record<string, unknown>)
      return app.fetch(req)
    },
  })
  t = await db.createTable('ks_rows', { id: 'int', tag: 'string', n: 'float' })
  await t.insert(Array.from({ length: 4000 }, (_, i) => ({ id: i, tag: i % 3 === 0 ? 'a' : 'b', n: i / 7 })))
  await t.where(t.c.id.ge(1500).and(t.c.id.lt(2000))).delete()
  await t.where(t.c.id.lt(300)).update({ tag: 'moved' })
  await t.insert(Array.from({ length: 300 }, (_, i) => ({ id: 10_000 + i, tag: 'a', n: -i })))
  rows = 4000 - 500 + 300
  rt = await client.getTable('ks_rows')
})
afterAll(async () => {
  await db.close()
})

const drain = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = []
  for await (const r of it) out.push(r)
  return out
}

/** The bodies a stream sent, and the stream's rows. */
async function streamed<T extends Record<string, unknown>>(q: { stream(o: { batchSize: number }): AsyncGenerator<T> }, batchSize: number) {
  bodies.length = 0
  const out = await drain(q.stream({ batchSize }))
  return { rows: out, sent: [...bodies] }
}

/** The pages were keyset pages: {} first, then each after a position past the one before; never an offset. */
function expectKeysetPages(sent: Record<string, unknown>[], pages: number, batchSize: number) {
  expect(sent).toHaveLength(pages)
  expect(sent.filter((b) => 'offset' in b)).toEqual([])
  expect(sent[0]!.keyset).toEqual({})
  const positions = sent.slice(1).map((b) => (b.keyset as { after: string }).after)
  for (const p of positions) expect(p).toMatch(/^[1-9][0-9]*$/)
  for (let i = 1; i < positions.length; i++) expect(BigInt(positions[i]!) > BigInt(positions[i - 1]!)).toBe(true)
  // Each page reads the same table at the one version pinned when the stream started.
  expect(new Set(sent.map((b) => b.table))).toEqual(new Set([`ks_rows:${t.version}`]))
  expect(sent.every((b) => typeof b.limit === 'number' && b.limit <= batchSize)).toBe(true)
}

describe('a remote stream in insertion order pages by keyset', () => {
  test('the whole table: the rows of collect(), in order, one keyset page per batch (through deletes and updates)', async () => {
    const all = [...(await rt.query().collect()).rows]
    expect(all).toEqual([...(await t.query().collect()).rows])
    expect(all).toHaveLength(rows)
    // 3,800 rows: 16 pages of 250 (the last one short); 10 full pages of 380, then an empty one.
    for (const [batchSize, pages] of [[250, 16], [380, 11], [1000, 4], [10_000, 1]] as const) {
      const { rows: out, sent } = await streamed(rt.query(), batchSize)
      expect({ batchSize, same: out.length === all.length && out.every((r, i) => Bun.deepEquals(r, all[i])) }).toEqual({ batchSize, same: true })
      expectKeysetPages(sent, pages, batchSize)
    }
  })

  test('a filtered stream with outputs: the rows of collect(), by keyset', async () => {
    const q = rt.where(rt.c.tag.ne('b')).select({ id: rt.c.id, twice: rt.c.n.mul(2) })
    const expected = [...(await q.collect()).rows]
    expect(expected).toEqual([...(await t.where(t.c.tag.ne('b')).select({ id: t.c.id, twice: t.c.n.mul(2) }).collect()).rows])
    const { rows: out, sent } = await streamed(q, 128)
    expect(out).toEqual(expected)
    expectKeysetPages(sent, Math.floor(expected.length / 128) + 1, 128)
    expect(sent.every((b) => b.where !== undefined)).toBe(true)
  })

  test('a limit: the first rows only, the last page asking for what is left', async () => {
    const { rows: out, sent } = await streamed(rt.query().limit(1234), 500)
    expect(out).toEqual([...(await rt.query().limit(1234).collect()).rows])
    expectKeysetPages(sent, 3, 500)
    expect(sent.map((b) => b.limit)).toEqual([500, 500, 234])
  })

  test('a past version streams its own rows by keyset', async () => {
    const past = await client.getTable(`ks_rows:${t.version - 1}`)
    const expected = [...(await past.collect()).rows]
    expect(expected).toHaveLength(3500)
    bodies.length = 0
    expect(await drain(past.query().stream({ batchSize: 600 }))).toEqual(expected)
    expect(bodies[0]!.keyset).toEqual({})
    expect(bodies.slice(1).every((b) => typeof (b.keyset as { after?: unknown }).after === 'string' && !('offset' in b))).toBe(true)
  })
})

describe('queries keyset paging cannot serve still page by offset', () => {
  test('an ordered stream: the rows of collect(), by offset, no keyset', async () => {
    const q = rt.orderBy(rt.c.n, 'desc').select({ id: rt.c.id, n: rt.c.n })
    const { rows: out, sent } = await streamed(q, 700)
    expect(out).toEqual([...(await q.collect()).rows])
    expect(sent.some((b) => 'keyset' in b)).toBe(false)
    expect(sent.map((b) => b.offset)).toEqual([0, 700, 1400, 2100, 2800, 3500])
  })

  test('a joined stream pages by offset', async () => {
    const u = await db.createTable('ks_right', { tag: 'string', label: 'string' })
    await u.insert([{ tag: 'a', label: 'A' }, { tag: 'moved', label: 'M' }])
    const ru = await client.getTable('ks_right')
    const q = rt.join(ru, { on: rt.c.tag.eq(ru.c.tag) }).select({ id: rt.c.id, label: ru.c.label }).orderBy(rt.c.id)
    const { rows: out, sent } = await streamed(q, 400)
    expect(out).toEqual([...(await q.collect()).rows])
    expect(sent.some((b) => 'keyset' in b)).toBe(false)
    expect(sent.every((b) => typeof b.offset === 'number')).toBe(true)
  })

  test('an aggregate over the whole table is one row: its first keyset page is all of it', async () => {
    for (const batchSize of [1, 10]) {
      const { rows: out, sent } = await streamed(rt.select({ n: agg.count(), top: agg.max(rt.c.id) }), batchSize)
      expect(out).toEqual([{ n: rows, top: 10_299 }])
      expect(sent.map((b) => b.keyset)).toEqual([{}])
    }
  })
})

test('a bad position from a client is a 400 naming keyset.after (the full set: test/server/query-keyset.test.ts)', async () => {
  for (const after of ['abc', '-1', '9223372036854775808', 7]) {
    const e = await rejection(client.http.request('POST', '/api/v1/query', { table: 'ks_rows', limit: 10, keyset: { after } }))
    expect(e).toBeInstanceOf(RequestError)
    expect({ after, status: (e as TesseraError).status, path: (e as TesseraError).details?.path }).toEqual({ after, status: 400, path: 'keyset.after' })
    expect((e as TesseraError).message).toStartWith('keyset.after: ')
  }
})
