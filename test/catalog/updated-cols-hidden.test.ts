import { afterEach, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { embedders, udf } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// An update's status names the columns it changed: the user's columns only. The cascade also recomputes hidden
// columns (an embedding index's vectors, the column a background job is computing); they were listed as well
// ("_idx_idx0", "_job1_up"), names users never see.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

test("an update of an embedded column lists the column, not the index's hidden one", async () => {
  db = await memoryDb()
  const t = await db.createTable('t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, s: 'hello' }])
  await t.addEmbeddingIndex('s', { embed: embedders.lexical() })
  const st = await t.update({ s: 'bye' }, { where: t.c.id.eq(1) })
  expect(st.updatedCols).toEqual(['s'])
  const batch = await t.batchUpdate([{ id: 1, s: 'again' }])
  expect(batch.updatedCols).toEqual(['s'])
})

let release!: () => void
const gate = new Promise<void>((resolve) => { release = resolve })
let entered!: () => void
const called = new Promise<void>((resolve) => { entered = resolve })
const slowUpper = udf({
  name: 'test_updcols_slow_upper', returns: 'string', params: ['string'],
  fn: async (s: string) => {
    entered()
    await gate
    return s.toUpperCase()
  },
})

test("an update while a background job computes a column lists the user's columns, not the job's hidden one", async () => {
  db = await memoryDb()
  const t = await db.createTable('j', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: 300 }, (_, i) => ({ id: i, s: `s${i}` })))
  // The job's first batch waits at the gate until the update is under way; the batches after it leave the job
  // running while the update runs, whether the update waited for that batch or not.
  const job = await db.jobs.start({ table: t, column: 'up', expr: slowUpper(t.c.s), batchSize: 5 })
  await called
  const update = t.update({ s: 'bye' }, { where: t.c.id.eq(299) })
  await Bun.sleep(50)
  release()
  const st = await update
  await db.jobs.wait(job.id)
  expect((await db.jobs.get(job.id)).status).toBe('done')
  expect(st.updatedCols).toEqual(['s'])
})
