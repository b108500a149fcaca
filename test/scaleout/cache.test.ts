import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { isRetryable, retryDelayMs } from '../../src/store/postgres/index.ts'
import { dropCreatedDatabases, freshDatabaseUrl, pgSkipReason } from '../store/pg-support.ts'

// Two Tessera instances on one server database stand for two processes (each has its own pool and table cache):
// a schema change by one is seen by the other's next insert and query, and by its long-lived table handles.

const skip = pgSkipReason()
let a: Tessera
let b: Tessera
beforeAll(async () => {
  if (skip) return
  const url = await freshDatabaseUrl('tessera_cache')
  ;[a, b] = await Promise.all([Tessera.open({ database: url }), Tessera.open({ database: url })])
})
afterAll(async () => {
  await a?.close()
  await b?.close()
  if (!skip) await dropCreatedDatabases()
}, 30_000)

const until = async (ok: () => boolean, ms = 3000) => {
  const end = Date.now() + ms
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
  return ok()
}

test('retry policy: only serialization failures and deadlocks; jittered, bounded delays', () => {
  expect([isRetryable({ code: '40001' }), isRetryable({ code: '40P01' }), isRetryable({ code: '23505' }), isRetryable(new Error('x'))]).toEqual([true, true, false, false])
  expect(retryDelayMs(1, () => 0)).toBe(1)
  expect(retryDelayMs(3, () => 0.999)).toBe(16)
  expect(retryDelayMs(20, () => 0.999)).toBe(500)
})

test.skipIf(!!skip)('A adds a column: B\'s held handle inserts and queries it; B.getTable sees it at once', async () => {
  await a.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  const tb = await b.getTable('docs')
  await tb.insert({ id: 1, text: 'one' })
  await (await a.getTable('docs')).addColumn('score', 'float?')
  // B's handle still caches the old schema; the insert re-reads it instead of rejecting the new column.
  await tb.insert({ id: 2, text: 'two', score: 0.5 })
  expect((await tb.select({ id: tb.c.id, score: tb.c.score }).orderBy(tb.c.id).collect()).rows).toEqual([{ id: 1, score: null }, { id: 2, score: 0.5 }])
  // A fresh lookup in B always reads the catalog row.
  await (await a.getTable('docs')).addColumn('tag', 'string?')
  expect(Object.keys((await b.getTable('docs')).schema())).toEqual(['id', 'text', 'score', 'tag'])
  // A handle nobody touches follows by notification (LISTEN/NOTIFY on tessera_catalog).
  await (await a.getTable('docs')).renameColumn('tag', 'label')
  expect(await until(() => 'label' in tb.schema())).toBe(true)
  expect(tb.version).toBe((await a.getTable('docs')).version)
})

test.skipIf(!!skip)('concurrent writers in two instances: gapless versions, nothing lost, same column added once', async () => {
  const ta = await a.createTable('hits', { id: 'int', who: 'string' }, { primaryKey: 'id' })
  const tb = await b.getTable('hits')
  const write = (t: typeof ta, who: string, base: number) => (async () => {
    for (let i = 0; i < 15; i++) await t.insert({ id: base + i, who })
  })()
  const adds = await Promise.allSettled([ta.addColumn('x', 'int?'), tb.addColumn('x', 'int?')])
  await Promise.all([write(ta, 'a', 0), write(tb, 'b', 1000)])
  // One add wins; the other is told the column exists (never a second column of that name).
  expect(adds.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
  expect((adds.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.code).toBe('COLUMN_ALREADY_EXISTS')
  expect((await b.getTable('hits')).columns().map((c) => c.name)).toEqual(['id', 'who', 'x'])
  expect(await ta.count()).toBe(30)
  const versions = (await tb.history()).map((h) => h.version).reverse()
  expect(versions).toEqual(Array.from({ length: 32 }, (_, i) => i))
})
