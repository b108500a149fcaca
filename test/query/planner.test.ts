import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import '../../src/functions/index.ts'
import type { Table, Tessera } from '../../src/index.ts'
import { executePlan } from '../../src/query/executor.ts'
import { logicalPlan } from '../../src/query/logical-plan.ts'
import { planQuery } from '../../src/query/planner.ts'
import { rejection, throwing } from '../support/settle.ts'
import { fixture } from './fixture.ts'
import { plannerCases } from './planner-cases.ts'

// The planner's exact SQL and parameters for one query per planning decision (Kysely's testSql habit): the
// logical plan decides, the emitter writes; each statement is also run, so the text is one Postgres accepts.

// On PGlite current reads use the two-arm visibility (src/query/sql.ts visibleAt): it stages updates and deletes.
const EXPECTED: Record<string, { sql: string; params: unknown[] }> = {
  'point lookup by the whole key: no sort': {
    sql: 'select t0.c0 as "_o0", t0.c1 as "_o1", t0.c2 as "_o2", t0.c3 as "_o3", t0.c4 as "_o4", t0.c5 as "_o5", t0.c6 as "_o6", t0.c7 as "_o7", t0.c8 as "_o8", t0.c9 as "_o9" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) and (t0.c0 = $1::bigint)',
    params: [3],
  },
  'select, where, order desc, limit': {
    sql: 'select t0.c0 as "_o0", (t0.c3 * $1::bigint) as "_o1" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) and (t0.c2 > $2::bigint) and (t0.c4 is not null) order by t0.c3 desc limit 10',
    params: [2, 0],
  },
  'no order: insertion order': {
    sql: 'select t0.c0 as "_o0" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) order by t0._rowid asc',
    params: [],
  },
  'head: insertion order and limit': {
    sql: 'select t0.c0 as "_o0" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) order by t0._rowid asc limit 5',
    params: [],
  },
  'tail without order: descending insertion order': {
    sql: 'select t0.c0 as "_o0" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) order by t0._rowid desc limit 2',
    params: [],
  },
  'offset paging: a tie-break on insertion order': {
    sql: 'select t0.c0 as "_o0" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) order by t0.c1 asc, t0._rowid asc limit 2 offset 2',
    params: [],
  },
  'group by with aggregates': {
    sql: 'select t0.c1 as "_o0", count(*) as "_o1", max(t0.c2) as "_o2" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) group by t0.c1',
    params: [],
  },
  'distinct': {
    sql: 'select distinct t0.c1 as "_o0" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1)))',
    params: [],
  },
  'sample fraction': {
    sql: 'select t0.c0 as "_o0" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) and (abs(hashtextextended(t0._rowid::text, $1::bigint)) / 9223372036854775807.0) < $2::double precision order by t0._rowid asc',
    params: [7, 0.5],
  },
  'sample n': {
    sql: 'select t0.c0 as "_o0" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) order by hashtextextended(t0._rowid::text, $1::bigint) limit 2',
    params: [1],
  },
  'a version in the past': {
    sql: 'select t0.c0 as "_o0" from tessera_data."t1" as t0 where t0._v_min <= 1 and t0._v_max > 1 order by t0._rowid asc',
    params: [],
  },
  'inner join': {
    sql: 'select t0.c0 as "_o0", t1.c1 as "_o1" from tessera_data."t1" as t0 join tessera_data."t2" as t1 on ((t1._v_max = 2147483647 and t1._v_min + 0 <= (select version from tessera.tables where id = 2)) or (t1._v_max <> 2147483647 and t1._v_max > (select version from tessera.tables where id = 2) and t1._v_min + 0 <= (select version from tessera.tables where id = 2))) and (t0.c0 = t1.c0) where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) and (t1.c1 > $1::double precision) order by t0._rowid asc',
    params: [1],
  },
  'left join': {
    sql: 'select t0.c0 as "_o0", t1.c1 as "_o1" from tessera_data."t1" as t0 left join tessera_data."t2" as t1 on ((t1._v_max = 2147483647 and t1._v_min + 0 <= (select version from tessera.tables where id = 2)) or (t1._v_max <> 2147483647 and t1._v_max > (select version from tessera.tables where id = 2) and t1._v_min + 0 <= (select version from tessera.tables where id = 2))) and (t0.c0 = t1.c0) where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) order by t0._rowid asc',
    params: [],
  },
  'full join: visibility inside derived tables': {
    sql: 'select t0.c0 as "_o0", t1.c1 as "_o1" from (select * from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1)))) as t0 full join (select * from tessera_data."t2" as t1 where ((t1._v_max = 2147483647 and t1._v_min + 0 <= (select version from tessera.tables where id = 2)) or (t1._v_max <> 2147483647 and t1._v_max > (select version from tessera.tables where id = 2) and t1._v_min + 0 <= (select version from tessera.tables where id = 2)))) as t1 on (t0.c0 = t1.c0) where true order by t0._rowid asc',
    params: [],
  },
  'cross join': {
    sql: 'select t0.c0 as "_o0", t1.c0 as "_o1" from tessera_data."t1" as t0 cross join tessera_data."t2" as t1 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) and ((t1._v_max = 2147483647 and t1._v_min + 0 <= (select version from tessera.tables where id = 2)) or (t1._v_max <> 2147483647 and t1._v_max > (select version from tessera.tables where id = 2) and t1._v_min + 0 <= (select version from tessera.tables where id = 2))) order by t0._rowid asc limit 3',
    params: [],
  },
  'a TypeScript filter: SQL fetches leaves, paging moves to TypeScript': {
    sql: 'select t0.c0 as "_o0", t0.c2 as "_l0", $1::bigint as "_l1" from tessera_data."t1" as t0 where ((t0._v_max = 2147483647 and t0._v_min + 0 <= (select version from tessera.tables where id = 1)) or (t0._v_max <> 2147483647 and t0._v_max > (select version from tessera.tables where id = 1) and t0._v_min + 0 <= (select version from tessera.tables where id = 1))) and (t0.c3 >= $2::double precision) order by t0._rowid asc',
    params: [0, 0],
  },
}

let db: Tessera
let t: Table
let u: Table
beforeAll(async () => {
  ({ db, t } = await fixture())
  u = await db.createTable('q/u', { k: 'int', w: 'float?' }, { primaryKey: 'k' })
  await u.insert([{ k: 1, w: 0.5 }, { k: 2, w: 2 }, { k: 9, w: null }])
})
afterAll(() => db.close())

describe('planner: exact SQL + params', () => {
  test('every case has its expected statement', () => {
    expect(Object.keys(plannerCases(t, u)).sort()).toEqual(Object.keys(EXPECTED).sort())
  })
  for (const name of Object.keys(EXPECTED)) {
    test(name, async () => {
      const spec = plannerCases(t, u)[name]!
      const plan = planQuery(spec)
      expect({ sql: plan.sql, params: plan.params }).toEqual(EXPECTED[name]!)
      await executePlan(db.driver, plan)
    })
  }
})

describe('logical plan', () => {
  test('decides without SQL: where split, leaves, paging in TypeScript', () => {
    const lp = logicalPlan(plannerCases(t, u)['a TypeScript filter: SQL fetches leaves, paging moves to TypeScript']!)
    expect(lp.tsWhere.length).toBe(1)
    expect(lp.select.where.length).toBe(1)
    expect(lp.select.columns.map((c) => c.key)).toEqual(['_o0', '_l0', '_l1'])
    expect(lp.select.limit).toBeUndefined()
    expect(lp.tsLimit).toEqual({ limit: 2 })
  })
  test('a point lookup by the whole key needs no sort; offset paging gets a tie-break', () => {
    expect(logicalPlan(plannerCases(t, u)['point lookup by the whole key: no sort']!).select.orderBy).toEqual([])
    expect(logicalPlan(plannerCases(t, u)['offset paging: a tie-break on insertion order']!).select.orderBy.map((k) => k.kind)).toEqual(['expr', 'rowid'])
  })
})

describe('builder: row counts are checked when given', () => {
  test('limit, offset, sample n, head and tail refuse negatives and fractions', async () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
      expect(() => t.limit(bad)).toThrow(`limit must be a non-negative integer, got ${bad}`)
      expect(() => t.query().offset(bad)).toThrow(`offset must be a non-negative integer, got ${bad}`)
      expect(() => t.query().sample({ n: bad })).toThrow(`sample n must be a non-negative integer, got ${bad}`)
      expect(await throwing(() => t.query().head(bad))).toThrow(`head n must be a non-negative integer, got ${bad}`)
      expect(((await rejection(t.query().tail(bad))) as Error).message).toBe(`tail n must be a non-negative integer, got ${bad}`)
    }
    expect((await t.query().head(0)).rows).toEqual([])
    expect((await t.query().tail(2)).rows.map((r) => r.id)).toEqual([4, 5])
  })
})
