import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { memoryDb } from '../support/db.ts'

// A job computes a batch outside any transaction and then writes it into the row versions it read. Meanwhile
// another job's write, or an update of columns that are not the job's inputs, writes those rows' tuples anew: the
// slow job's values must still land (found again by _rowid, inputs unchanged), and none may be lost.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

/** A UDF whose first call waits for `open()` (later calls, such as an update's cascade, answer at once) and says when it is entered (its batch is read). */
function gatedUdf(name: string) {
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  let called!: () => void
  const entered = new Promise<void>((resolve) => (called = resolve))
  let first = true
  const fn = udf({
    name, returns: 'int', batchSize: 100,
    fn: async (texts: string[]) => {
      if (first) {
        first = false
        called()
        await gate
      }
      return texts.map((s) => s.length)
    },
  })
  return { fn, open, entered }
}

describe('jobs that run beside other writes', () => {
  test('two jobs on one table: the slower job keeps every value although the other rewrote its rows', async () => {
    db = await memoryDb()
    const t = await db.createTable('two_jobs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, text: 'a' }, { id: 2, text: 'bb' }, { id: 3, text: 'ccc' }])
    const slow = gatedUdf('test_two_jobs_slow_len')
    const fast = udf({ name: 'test_two_jobs_fast_len', returns: 'int', fn: (s: string) => s.length * 100 })

    const a = await db.jobs.start({ table: t, column: 'slow', expr: slow.fn(t.c.text), batchSize: 10 })
    await slow.entered
    const b = await db.jobs.start({ table: t, column: 'fast', expr: fast(t.c.text), batchSize: 10 })
    expect((await db.jobs.wait(b.id)).status).toBe('done')
    slow.open()
    expect((await db.jobs.wait(a.id)).status).toBe('done')

    const rows = (await t.select('id', 'slow', 'fast').orderBy(t.c.id).collect()).rows
    expect(rows).toEqual([
      { id: 1, slow: 1, fast: 100 },
      { id: 2, slow: 2, fast: 200 },
      { id: 3, slow: 3, fast: 300 },
    ])
  })

  test('an update of other columns while a batch computes keeps its values; an update of its inputs wins', async () => {
    db = await memoryDb()
    const t = await db.createTable('job_update', { id: 'int', text: 'string', note: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, text: 'a', note: 'x' }, { id: 2, text: 'bb', note: 'x' }, { id: 3, text: 'ccc', note: 'x' }])
    const slow = gatedUdf('test_job_update_slow_len')

    const job = await db.jobs.start({ table: t, column: 'len', expr: slow.fn(t.c.text), batchSize: 10 })
    await slow.entered
    await t.update({ note: 'changed' }, { where: t.c.id.eq(1) })
    await t.update({ text: 'dddd' }, { where: t.c.id.eq(2) })
    slow.open()
    expect((await db.jobs.wait(job.id)).status).toBe('done')

    const rows = (await t.select('id', 'note', 'len').orderBy(t.c.id).collect()).rows
    expect(rows).toEqual([
      { id: 1, note: 'changed', len: 1 },
      { id: 2, note: 'x', len: 4 },
      { id: 3, note: 'x', len: 3 },
    ])
  })
})
