// Shared scenarios, run on every store by test/store/<store>.test.ts (moved here from test/query/json-query.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { agg, col } from '../../src/index.ts'
import type { Query } from '../../src/index.ts'
import { parseJsonQuery } from '../../src/api/json-query.ts'
import { runJsonQuery } from './make-db.ts'
import type { Fixture } from './fixture.ts'
import { fixture } from './fixture.ts'

// The HTTP query body: every library-built query's toJSON() (through real JSON text) builds a query with the same
// results; malformed bodies and bad expressions fail naming the JSON path of the bad part.
import type { MakeDb } from './make-db.ts'

export function jsonQuerySuite(makeDb: MakeDb): void {
  let fx: Fixture
  beforeAll(async () => {
    fx = await fixture(makeDb)
    const u = await fx.db.createTable('q/u', { uid: 'int', id: 'int', name: 'string' })
    await u.insert([{ uid: 1, id: 1, name: 'one' }, { uid: 2, id: 3, name: 'three' }])
    await u.insert([{ uid: 3, id: 5, name: 'five' }])
  })
  afterAll(async () => { await fx.db.close() })

  const viaJson = async (q: Query) => runJsonQuery(fx.db, JSON.parse(JSON.stringify(q.toJSON())))

  describe('toJSON() round-trips through queryFromJson to the same results', () => {
    const cases: [string, () => Promise<Query>][] = [
      ['select + where + order', async () => fx.t.where(fx.t.c.i.gt(0).or(fx.t.c.f.eq(null))).select({ id: fx.t.c.id, up: fx.t.c.s.upper(), n: fx.t.c.j.path('a[*]').len() }).orderBy(fx.t.c.id, 'desc')],
      ['timestamps, regex, isin, slices', async () => fx.t.where(fx.t.c.ts.gt('2024-01-01T00:00:00Z').or(fx.t.c.s.match('^h', 'i'))).select({ id: fx.t.c.id, a: fx.t.c.arr.slice(-2), k: fx.t.c.g.isin(['a']) }).orderBy(fx.t.c.id)],
      ['group by with aggregates', async () => fx.t.groupBy(fx.t.c.g).select({ g: fx.t.c.g, n: agg.count(), s: agg.sum(fx.t.c.i), m: agg.mean(fx.t.c.f) }).orderBy(fx.t.c.g)],
      ['limit/offset + distinct', async () => fx.t.select(fx.t.c.b).distinct().orderBy(fx.t.c.b).limit(2).offset(1)],
      ['sample', async () => fx.t.sample({ n: 3, seed: 4 }).select('id')],
      ['left join', async () => {
        const u = await fx.db.getTable('q/u')
        return fx.t.join(u, { on: fx.t.c.id.eq(u.c.id), how: 'left' }).select({ id: fx.t.c.id, name: u.c.name }).orderBy(fx.t.c.id)
      }],
      ['version pinned table and join', async () => {
        const u1 = await fx.db.get('q/u:1')
        return fx.t.join(u1, { on: fx.t.c.id.eq(u1.c.id) }).select({ id: fx.t.c.id, name: u1.c.name }).orderBy(fx.t.c.id)
      }],
    ]
    for (const [name, make] of cases) {
      test(name, async () => {
        const q = await make()
        const expected = await q.collect()
        expect(expected.length).toBeGreaterThan(0)
        const r = await viaJson(q)
        expect(r.rows).toEqual(expected.rows)
        expect(r.columns).toEqual(expected.columns)
      })
    }
    test('the version pin of a joined table survives toJSON', async () => {
      const u1 = await fx.db.get('q/u:1')
      expect((await viaJson(fx.t.join(u1, { on: fx.t.c.id.eq(u1.c.id) }).select({ id: fx.t.c.id }).orderBy(fx.t.c.id))).rows.map((r) => r.id)).toEqual([1, 3])
    })
    test("select as a { name: expr } record and a 'dir/t:N' table", async () => {
      const r = await runJsonQuery(fx.db, { table: 'q/u:1', select: { n: { fn: 'mul', args: [{ col: 'uid' }, { lit: 10 }] } }, orderBy: [{ expr: { col: 'uid' }, desc: true }] })
      expect(r.rows).toEqual([{ n: 20 }, { n: 10 }])
    })
  })

  describe('errors name the JSON path', () => {
    const fails = async (body: unknown) => runJsonQuery(fx.db, body).then(() => { throw new Error('expected a failure') }, (e) => e)
    test('unknown column deep in an expression', async () => {
      const e = await fails({ table: 'q/t', select: [{ name: 'a', expr: { col: 'id' } }, { name: 'b', expr: { fn: 'add', args: [{ col: 'nope' }, { lit: 1 }] } }] })
      expect(e.code).toBe('COLUMN_NOT_FOUND')
      expect(e.message).toStartWith("select[1].expr.args[0]: unknown column 'nope'")
    })
    test('wrong type and unknown function', async () => {
      const e = await fails({ table: 'q/t', where: { fn: 'and', args: [{ fn: 'gt', args: [{ col: 'i' }, { lit: 0 }] }, { fn: 'add', args: [{ col: 's' }, { lit: 1 }] }] } })
      expect(e.message).toBe('where.args[1]: add() needs numbers, got string? and int in (s + 1)')
      const f = await fails({ table: 'q/t', orderBy: [{ expr: { fn: 'frobnicate', args: [] } }] })
      expect(f.message).toBe("orderBy[0].expr: unknown function 'frobnicate' in frobnicate()")
      const w = await fails({ table: 'q/t', where: { col: 'i' } })
      expect(w.message).toBe('where: where() needs a boolean expression, got int from i')
    })
    test('malformed bodies', async () => {
      expect(() => parseJsonQuery({ table: 'q/t', limit: -1 })).toThrow(/^limit: /)
      expect(() => parseJsonQuery({ table: 'q/t', select: [{ name: 'a', expr: { col: 'id' } }, { name: 'b', expr: { col: 5 } }] })).toThrow(/^select\[1\]\.expr/)
      expect(() => parseJsonQuery({ table: 'q/t', orderBy: [{ expr: { col: 'id' }, desc: 'yes' }] })).toThrow(/^orderBy\[0\]\.desc: /)
      expect(() => parseJsonQuery({ table: 'q/t', joins: [{ table: 'q/u', on: { col: 'id' }, how: 'outer' }] })).toThrow(/^joins\[0\]\.how: /)
      expect(() => parseJsonQuery({ table: 'q/t', bogus: 1 })).toThrow(/^bogus: /)
      expect(() => parseJsonQuery({})).toThrow(/^table: /)
      const dup = await fails({ table: 'q/t', select: [{ name: 'a', expr: { col: 'id' } }, { name: 'a', expr: { col: 'i' } }] })
      expect(dup.message).toBe("select[1]: output name 'a' is used twice")
    })
    test('unknown table', async () => {
      const e = await fails({ table: 'q/missing' })
      expect(e.code).toBe('TABLE_NOT_FOUND')
      expect(e.message).toStartWith('table: ')
      const j = await fails({ table: 'q/t', joins: [{ table: 'q/nope', on: { fn: 'eq', args: [{ col: 'id', tbl: 'q/t' }, { lit: 1 }] } }] })
      expect(j.message).toStartWith('joins[0].table: ')
    })
    test('ambiguous column in a join', async () => {
      const e = await fails({ table: 'q/t', joins: [{ table: 'q/u', on: { fn: 'eq', args: [{ col: 'id' }, { col: 'uid' }] } }] })
      expect(e.message).toBe("joins[0].on.args[0]: column 'id' is ambiguous; qualify it with its table (e.g. q/t.c.id)")
    })
  })

  test('a column reference helper stays usable in JSON queries', async () => {
    const r = await runJsonQuery(fx.db, { table: 'q/t', select: [{ name: 'id', expr: col('id').toJSON() }], where: col('id').le(2).toJSON(), limit: 5 })
    expect(r.rows.map((x) => x.id)).toEqual([1, 2])
  })
}
