import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { memoryDb } from '../support/db.ts'

// A revert that would leave something that depends on the reverted version broken is refused, naming it: a view
// created on the schema the revert undoes, a background job whose column the reverted version added.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { code?: string }) => e)

describe('revert guards', () => {
  test('a base column a view filters on cannot be reverted away, as it cannot be dropped', async () => {
    db = await memoryDb()
    const t = await db.createTable('rg_base', { id: 'int' })
    await t.insert([{ id: 1 }])
    await t.addColumn('tag', 'string?')
    const v = await db.createView('rg_view', t, { where: t.c.tag.isNull() })
    const e = await refusal(t.revert())
    expect(e?.code).toBe('HAS_DEPENDENTS')
    expect(e?.message).toContain("view 'rg_view'")
    // Nothing changed: the view still answers, the base keeps its column.
    expect((await v.collect()).rows).toEqual([{ id: 1, tag: null }])
    expect(Object.keys(t.schema())).toEqual(['id', 'tag'])
    // A data-only revert still works (the view follows).
    await t.insert([{ id: 2 }])
    await t.revert()
    expect((await v.collect()).rows).toEqual([{ id: 1, tag: null }])
  })

  test("a view's own computed column cannot be reverted away under a view created on it", async () => {
    db = await memoryDb()
    const t = await db.createTable('rg_t', { id: 'int', text: 'string' })
    await t.insert([{ id: 1, text: 'a' }])
    const v1 = await db.createView('rg_v1', t)
    await v1.addComputedColumn('lbl', v1.c.text.upper())
    const v2 = await db.createView('rg_v2', v1)
    const e = await refusal(v1.revert())
    expect(e?.code).toBe('HAS_DEPENDENTS')
    expect(e?.message).toContain("view 'rg_v2'")
    expect((await v2.collect()).rows).toEqual([{ id: 1, text: 'a', lbl: 'A' }])
    // Dropping the column instead is followed by the view on it.
    await v1.dropColumn('lbl')
    expect((await v2.collect()).rows).toEqual([{ id: 1, text: 'a' }])
  })

  test("reverting the version that added a running job's column is refused until the job is cancelled", async () => {
    db = await memoryDb()
    const t = await db.createTable('rg_job', { id: 'int', text: 'string' })
    await t.insert(Array.from({ length: 20 }, (_, i) => ({ id: i, text: `t${i}` })))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slow = udf({ name: 'test_rg_slow', returns: 'int', fn: async (s: string) => (await gate, s.length) })
    const job = await db.jobs.start({ table: t, column: 'len', expr: slow(t.c.text), batchSize: 5 })
    const e = await refusal(t.revert())
    expect(e?.code).toBe('CONCURRENCY_CONFLICT')
    expect(e?.message).toContain("running background job computes ('len')")
    expect(e?.message).not.toMatch(/\bc\d+\b|relation/)
    release()
    expect((await db.jobs.wait(job.id)).status).toBe('done')
    expect((await t.select('len').limit(1).collect()).rows[0]!.len).toBe(2)
  })
})

describe('dropping a column a running job reads', () => {
  test('names the job and how to cancel it, not its hidden column', async () => {
    db = await memoryDb()
    const t = await db.createTable('rg_job_drop', { id: 'int', text: 'string' })
    await t.insert(Array.from({ length: 10 }, (_, i) => ({ id: i, text: `t${i}` })))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slow = udf({ name: 'test_rg_slow_drop', returns: 'int', fn: async (s: string) => (await gate, s.length) })
    const job = await db.jobs.start({ table: t, column: 'lo', expr: slow(t.c.text), batchSize: 5 })
    const e = await refusal(t.dropColumn('text'))
    expect(e?.code).toBe('HAS_DEPENDENTS')
    expect(e?.message).toContain("running background job(s) computing column(s) 'lo'")
    expect(e?.message).not.toContain('_job')
    release()
    expect((await db.jobs.wait(job.id)).status).toBe('done')
  })
})
