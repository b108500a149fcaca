import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PGlite } from '@electric-sql/pglite'
import { PGliteDriver } from '../../src/store/index.ts'
import { PreparedStatements } from '../../src/store/pglite/prepared.ts'
import { float4ArrayBinary } from '../../src/store/pglite/binary-params.ts'
import { templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Named prepared statements on PGlite (execProtocol): same answers as query(), kept statements reused, bounded,
// errors surfaced without losing the connection, and DDL that changes a statement's result handled.

describe('PreparedStatements (in-thread PGlite)', () => {
  let pg: PGlite
  beforeAll(async () => {
    pg = await PGlite.create()
    await pg.exec(`create table t (id bigint primary key, name text, score double precision, meta jsonb, at timestamptz);
      insert into t select g, 'n' || g, g / 2.0, jsonb_build_object('g', g), timestamptz '2026-01-01' + g * interval '1 day' from generate_series(1, 50) g`)
  })
  afterAll(() => pg.close())

  test('answers exactly what query() answers, for every parameter type', async () => {
    const ps = new PreparedStatements(pg)
    const sql = 'select id, name, score, meta, at from t where id = $1::bigint or name = $2::text or meta = $3::jsonb or at = $4::timestamptz order by id'
    const params = [3, 'n7', JSON.stringify({ g: 9 }), new Date('2026-01-12T00:00:00Z')]
    const a = await ps.query(sql, params)
    expect(a.rows).toEqual((await pg.query(sql, params)).rows)
    expect(a.rows.map((r) => (r as { id: number }).id)).toEqual([3, 7, 9, 11])
    // Again, with other values: the kept statement answers for them.
    expect((await ps.query(sql, [4, null, null, null])).rows).toEqual((await pg.query(sql, [4, null, null, null])).rows)
    expect(ps.size).toBe(1)
  })

  test('reuses the named statement: it shows in pg_prepared_statements once', async () => {
    const ps = new PreparedStatements(pg)
    for (let i = 1; i <= 8; i++) await ps.query('select name from t where id = $1', [i])
    const kept = await pg.query<{ n: number; calls: number }>(`select count(*)::int as n, max(generic_plans + custom_plans)::int as calls from pg_prepared_statements where statement = 'select name from t where id = $1'`)
    expect(kept.rows[0]).toEqual({ n: 1, calls: 8 })
  })

  test('stays bounded: the least recently used statement is closed', async () => {
    const ps = new PreparedStatements(pg, 3)
    for (let i = 0; i < 5; i++) await ps.query(`select ${i} + $1::int as v`, [1])
    expect(ps.size).toBe(3)
    const names = await pg.query<{ statement: string }>(`select statement from pg_prepared_statements where statement like 'select _ + $1::int as v' order by statement`)
    expect(names.rows.map((r) => r.statement)).toEqual(['select 2 + $1::int as v', 'select 3 + $1::int as v', 'select 4 + $1::int as v'])
  })

  test('an error names the problem and leaves the connection usable', async () => {
    const ps = new PreparedStatements(pg)
    const e = (await rejection(ps.query('select id from t where id = $1::bigint', ['not a number']))) as Error & { code?: string }
    expect(e.message).toContain('invalid input syntax for type bigint')
    expect(e.code).toBe('22P02')
    expect((await ps.query('select id from t where id = $1::bigint', [5])).rows).toEqual([{ id: 5 }])
    expect(((await rejection(ps.query('select nope from t', []))) as Error).message).toContain('nope')
    expect(ps.size).toBe(1)
  })

  test('a statement whose result type DDL changed is prepared again', async () => {
    const ps = new PreparedStatements(pg)
    await pg.exec('create table u (a int, b text); insert into u values (1, \'x\')')
    expect((await ps.query('select * from u where a = $1', [1])).rows).toEqual([{ a: 1, b: 'x' }])
    await pg.exec('alter table u add column c int default 7')
    expect((await ps.query('select * from u where a = $1', [1])).rows).toEqual([{ a: 1, b: 'x', c: 7 }])
  })

  test('writes report affected rows', async () => {
    const ps = new PreparedStatements(pg)
    const r = await ps.query('update t set name = name where id <= $1', [4])
    expect(r.affectedRows).toBe(4)
  })
})

describe('float4[] parameters in binary (a search\'s query vector)', () => {
  let pg: PGlite
  beforeAll(async () => {
    pg = await PGlite.create()
  })
  afterAll(() => pg.close())

  const vector = (n: number, at: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => at(i))
  /** Postgres's own text of the stored array, through the binary path (prepared) and the text path (query()). */
  const both = async (value: unknown) => {
    const sql = 'select $1::real[]::text as t'
    const prepared = await new PreparedStatements(pg).query<{ t: string }>(sql, [value]).then((r) => r.rows[0]!.t, (e: Error & { code?: string }) => `error ${e.code}`)
    const text = await pg.query<{ t: string }>(sql, [value]).then((r) => r.rows[0]!.t, (e: Error & { code?: string }) => `error ${e.code}`)
    return { prepared, text }
  }

  test('a query vector is sent in binary and stores exactly what its text form stores', async () => {
    const values = vector(384, (i) => Math.sin(i * 0.37) / 7 + (i % 5 === 0 ? 1e-30 : 0))
    expect(float4ArrayBinary(values)).toBeInstanceOf(Uint8Array)
    const { prepared, text } = await both(values)
    expect(prepared).toBe(text)
    expect(prepared.split(',').length).toBe(384)
  })

  test('special values agree with the text form: NaN, infinities, -0, a subnormal', async () => {
    const values = vector(32, (i) => i / 3)
    values[1] = NaN
    values[2] = Infinity
    values[3] = -Infinity
    values[4] = -0
    values[5] = 1e-40
    expect(float4ArrayBinary(values)).toBeInstanceOf(Uint8Array)
    const { prepared, text } = await both(values)
    expect(prepared).toBe(text)
  })

  test('a value float4 cannot hold is refused as the text form refuses it (it is sent as text)', async () => {
    for (const bad of [1e39, -1e39, 1e-50]) {
      const values = vector(32, (i) => i)
      values[7] = bad
      expect(float4ArrayBinary(values)).toBeUndefined()
      const { prepared, text } = await both(values)
      expect(prepared).toBe('error 22003')
      expect(text).toBe(prepared)
    }
  })

  test('arrays that are not flat numbers, and short ones, go as text', async () => {
    expect(float4ArrayBinary([1, 2, 3])).toBeUndefined()
    expect(float4ArrayBinary([...vector(20, (i) => i), null])).toBeUndefined()
    expect(float4ArrayBinary(vector(20, (i) => i).map(String))).toBeUndefined()
    expect(float4ArrayBinary('{1,2,3}')).toBeUndefined()
    const withNull = [...vector(20, (i) => i), null]
    const { prepared, text } = await both(withNull)
    expect(prepared).toBe(text)
    expect(prepared).toContain('NULL')
  })

  test('an empty array and a long one', async () => {
    expect(await both([])).toEqual({ prepared: '{}', text: '{}' })
    const long = vector(4096, (i) => i * 0.25)
    const { prepared, text } = await both(long)
    expect(prepared).toBe(text)
  })
})

describe('prepare through the store worker', () => {
  test('PGliteDriver.query with prepare keeps the statement in the worker', async () => {
    const driver = await PGliteDriver.open({ loadDataDir: await templateBlob() })
    try {
      await driver.exec('create table w (id int primary key, v text); insert into w select g, \'v\' || g from generate_series(1, 10) g')
      for (let i = 1; i <= 3; i++) expect((await driver.query('select v from w where id = $1', [i], { prepare: true })).rows).toEqual([{ v: `v${i}` }])
      const kept = await driver.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements where statement = 'select v from w where id = $1'`)
      expect(kept.rows[0]!.n).toBe(1)
      // Without the option nothing is kept.
      await driver.query('select v from w where id = $1 and true', [1])
      const none = await driver.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements where statement like '%and true'`)
      expect(none.rows[0]!.n).toBe(0)
    } finally {
      await driver.close()
    }
  })
})
