import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table } from '../../src/index.ts'
import { embedders, Tessera } from '../../src/index.ts'
import { defaultEfSearch } from '../../src/index/ann/index.ts'
import { pgvectorServer } from '../support/pgvector-server.ts'

// On a PostgreSQL server, a top-k without an efSearch on the query or the index explores as many candidates as the
// embedded store's rule gives for the index's size (src/index/ann/ef.ts), from the catalog's row estimate, instead of
// pgvector's fixed default of 40 (recall@10 0.92 at 100,000 rows). PGlite with pgvector behind the wire protocol
// stands in for the server (as in test/store/postgres-vector.test.ts); the row estimate is set in pg_class, as a
// vacuum or analyze of a big table would leave it.

describe('hnsw.ef_search from the index size on a server store', () => {
  let wire: Awaited<ReturnType<typeof pgvectorServer>>
  let db: Tessera
  const tables: Record<string, Table> = {}
  const sent: string[] = []

  beforeAll(async () => {
    wire = await pgvectorServer()
    db = await Tessera.open({ database: wire.url })
    for (const name of ['small', 'big']) {
      const t = await db.createTable(name, { id: 'int', text: 'string' }, { primaryKey: 'id' })
      await t.insert(Array.from({ length: 60 }, (_, i) => ({ id: i, text: `note ${i} about ${['lava', 'cake', 'orbit'][i % 3]}` })))
      await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 32 }), metric: 'cosine', name: 'lex' })
      tables[name] = t
    }
    // What a vacuum of a 100,000-row table leaves in the catalog.
    await db.driver.exec(`update pg_class set reltuples = 100000 where oid = 'tessera_data.t${tables.big!.id}'::regclass`)
    const driver = db.driver as typeof db.driver & { transaction: typeof db.driver.transaction }
    const original = driver.transaction.bind(driver)
    driver.transaction = ((fn: (tx: never) => Promise<unknown>, options?: never) =>
      original(async (tx) => fn({ query: tx.query.bind(tx), exec: async (sql: string) => (sent.push(sql), tx.exec(sql)) } as never), options)) as typeof driver.transaction
  }, 60_000)
  afterAll(async () => {
    await db?.close()
    await wire?.stop()
  })

  const top = async (t: Table, k: number, efSearch?: number): Promise<string> => {
    sent.length = 0
    const sim = t.c.text.similarity('lava', efSearch === undefined ? {} : { efSearch })
    const rows = (await t.orderBy(sim, 'desc').limit(k).select({ id: t.c.id }).collect()).rows
    expect(rows).toHaveLength(k)
    return sent.join('; ')
  }

  test('a big index gets the rule\'s ef (90 at 100,000 rows), local to the statement\'s transaction', async () => {
    expect(defaultEfSearch(10, 100_000)).toBe(90)
    const settings = await top(tables.big!, 10)
    expect(settings).toContain("set local hnsw.ef_search = '90'")
    expect(settings).toContain("set local hnsw.iterative_scan = 'relaxed_order'")
    const after = await db.driver.query<{ ef: string }>("select current_setting('hnsw.ef_search') as ef")
    expect(after.rows[0]).toEqual({ ef: '40' })
  })

  test("a small index with a small k keeps pgvector's default (no transaction); a large k gets twice k", async () => {
    expect(await top(tables.small!, 10)).toBe('')
    expect(await top(tables.small!, 30)).toContain("set local hnsw.ef_search = '60'")
  })

  test("the query's efSearch wins over the rule, on either table", async () => {
    expect(await top(tables.big!, 10, 25)).toContain("set local hnsw.ef_search = '25'")
    expect(await top(tables.small!, 10, 25)).toContain("set local hnsw.ef_search = '25'")
  })
})
