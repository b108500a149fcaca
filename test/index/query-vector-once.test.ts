import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table } from '../../src/index.ts'
import { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { annRows, annTable, exactTopIds, traceStatements } from '../support/ann-rows.ts'
import { testVectors } from '../support/vectors.ts'
import { pgvectorServer } from '../support/pgvector-server.ts'

setDefaultTimeout(120_000)

// A search's query vector is cast to pgvector's type once per statement, not once per row it ranks. Prepared
// statements run their generic plan after five executions; there an inline `$2::real[]::vector(n)` is an expression
// over a parameter, evaluated for every row, while a scalar subquery is an InitPlan run once (src/index/functions.ts).
// `explain (generic_plan)` shows the plan a kept statement ends up with.

const DIMS = 16
const { clustered, dot } = testVectors(29, DIMS)

/**
 * The lines of `explain (generic_plan, costs off)` for one of a search's statements. Its $n placeholders have no
 * values, which the extended protocol's bind refuses, so the explain runs from PL/pgSQL into a temporary table.
 */
async function genericPlan(db: Tessera, sql: string, settings = ''): Promise<string[]> {
  expect(sql).not.toContain('$q$')
  return db.driver.transaction(async (tx) => {
    if (settings) await tx.exec(settings)
    await tx.exec(`do $do$ declare plan_line text; begin
      create temp table if not exists _plan (n serial, line text); truncate _plan;
      for plan_line in execute 'explain (generic_plan, costs off) ' || $q$${sql}$q$ loop insert into _plan (line) values (plan_line); end loop;
    end $do$`)
    return (await tx.query<{ line: string }>('select line from _plan order by n')).rows.map((r) => r.line)
  })
}

/** The plan lines that rank rows by distance: none may cast a parameter (a $n) there. */
const rankingLines = (plan: string[]): string[] => plan.filter((line) => /<=>|<#>|<->/.test(line))

/**
 * Every ranking line compares with an InitPlan's value and names no parameter. (An InitPlan elsewhere in the plan
 * proves nothing: the visibility filter's committed version is one too.)
 */
function expectQueryVectorOnce(plan: string[]): void {
  const ranking = rankingLines(plan)
  expect(ranking.length).toBeGreaterThan(0)
  for (const line of ranking) {
    expect(line).toMatch(/(<=>|<#>|<->) \(InitPlan \d+\)/)
    expect(line).not.toMatch(/\$\d/)
  }
}

describe('the query vector is cast once per statement (embedded store)', () => {
  let db: Tessera
  let t: Table
  const rows = annRows(2_000, clustered)
  beforeAll(async () => {
    db = await memoryDb()
    t = await annTable(db, 'vecs', DIMS, rows)
    await t.addScalarIndex('bucket')
  })
  afterAll(() => db.close())

  test('a selective filter ranked in one statement: the distance compares each row with an InitPlan, and answers are exact', async () => {
    const q = clustered()
    // bucket < 20 keeps 2% of the rows: few enough for the planner to rank all of them in SQL.
    const run = () => t.where(t.c.bucket.lt(20)).orderBy(t.c.emb.similarity({ vector: q }), 'desc').limit(10).select({ id: t.c.id }).collect()
    for (let i = 0; i < 6; i++) await run() // past the five custom plans of a kept statement
    const { result, statements } = await traceStatements(db, run)
    expect(result.rows.map((r) => r.id)).toEqual(exactTopIds(rows, dot, q, 10, (r) => r.bucket < 20))
    const ranking = statements.filter((sql) => sql.includes('<=>'))
    expect(ranking).toHaveLength(1)
    expectQueryVectorOnce(await genericPlan(db, ranking[0]!))
  })

  test('a score in the select list and an exact search take the same form', async () => {
    const q = clustered()
    const sim = t.c.emb.similarity({ vector: q }, { exact: true })
    const { result, statements } = await traceStatements(db, () => t.orderBy(sim, 'desc').limit(5).select({ id: t.c.id, score: sim }).collect())
    expect(result.rows.map((r) => r.id)).toEqual(exactTopIds(rows, dot, q, 5))
    const top = rows.find((r) => r.id === result.rows[0]!.id)!
    expect(result.rows[0]!.score as number).toBeCloseTo(dot(top.emb, q), 5)
    const ranking = statements.filter((sql) => sql.includes('<=>'))
    expect(ranking.length).toBeGreaterThan(0)
    for (const sql of ranking) expectQueryVectorOnce(await genericPlan(db, sql))
  })
})

describe('the query vector as a subquery still uses pgvector HNSW on a server store (pglite-socket stand-in)', () => {
  let wire: Awaited<ReturnType<typeof pgvectorServer>>
  let db: Tessera
  let t: Table
  const rows = annRows(300, clustered)
  beforeAll(async () => {
    wire = await pgvectorServer()
    db = await Tessera.open({ database: wire.url })
    t = await db.createTable('vecs', { id: 'int', emb: `array<float32>[${DIMS}]` }, { primaryKey: 'id' })
    await t.insert(rows.map((r) => ({ id: r.id, emb: r.emb })))
    await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine' })
  }, 60_000)
  afterAll(async () => {
    await db?.close()
    await wire?.stop()
  })

  test("a top-k's order by matches the HNSW index in the generic plan", async () => {
    const { result, statements } = await traceStatements(db, () => t.orderBy(t.c.emb.similarity({ vector: clustered() }), 'desc').limit(5).select({ id: t.c.id }).collect())
    expect(result.rows).toHaveLength(5)
    const ranking = statements.filter((sql) => sql.includes('<=>'))
    expect(ranking).toHaveLength(1)
    // 300 rows are cheap to sort: with sequential scans priced out, only an index that matches the order by can serve it.
    const plan = await genericPlan(db, ranking[0]!, 'set local enable_seqscan = off')
    expect(plan.join('\n')).toMatch(/Index Scan using t\d+_e\d+_cosine on/)
    expectQueryVectorOnce(plan)
  })
})
