import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// A background job over a file data dir: progress is visible, the old column keeps serving, cancel keeps progress,
// and after a restart the job resumes without recomputing rows already done.

const home = tempDir('tessera-jobs-')
let db: Tessera | undefined
afterAll(async () => {
  await db?.close()
  rmSync(home, { recursive: true, force: true })
})

const N = 2000
let computedRows = 0
const slowLen = udf({
  name: 'test_job_slow_len', returns: 'int', batchSize: 50,
  fn: async (texts: string[]) => {
    await Bun.sleep(15)
    computedRows += texts.length
    return texts.map((s) => s.length * 10)
  },
})
const oldUpper = udf({ name: 'test_job_old_upper', returns: 'string', fn: (s: string) => s.toUpperCase() })

async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await Bun.sleep(10)
  }
}

describe('background jobs', () => {
  test('start, observe, cancel, restart, resume; the old column serves until the swap', async () => {
    db = await Tessera.open({ home })
    const t = await db.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, text: 'x'.repeat(i % 17) })))
    await t.addComputedColumn('emb', oldUpper(t.c.text))
    expect(t.schema().emb).toBe('string?')

    const started = await db.jobs.start({ table: t, column: 'emb', expr: slowLen(t.c.text), ifExists: 'replace', batchSize: 100 })
    expect(started).toMatchObject({ kind: 'add_computed_column', table: 'docs', column: 'emb', status: 'running', rowsTotal: N })
    const id = started.id

    await until(async () => (await db!.jobs.get(id)).rowsDone >= 300)
    // While it runs: the hidden column is invisible, the old column still answers, and writes keep working.
    expect(Object.keys(t.schema())).toEqual(['id', 'text', 'emb'])
    expect((await t.where(t.c.id.eq(5)).select('emb').collect()).rows).toEqual([{ emb: 'XXXXX' }])
    await t.insert({ id: N, text: 'abc' })
    await t.update({ text: 'yy' }, { where: t.c.id.eq(N - 1) })

    const cancelled = await db.jobs.cancel(id)
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.rowsDone).toBeGreaterThanOrEqual(300)
    expect(cancelled.rowsDone).toBeLessThan(N)
    // Batches are sized to ~40 ms of store time (at most batchSize), so rowsDone need not be a multiple of 100; that
    // only whole batches count is checked after the resume below (exactly the rows not done are computed again).
    expect((await db.jobs.list()).map((j) => j.id)).toContain(id)
    expect(t.schema().emb).toBe('string?')

    await db.close()
    db = await Tessera.open({ home })
    const after = await db.jobs.get(id)
    expect(after.status).toBe('cancelled')
    expect(after.rowsDone).toBe(cancelled.rowsDone)

    computedRows = 0
    const [resumed] = await db.jobs.resume(id)
    expect(resumed!.status).toBe('running')
    const done = await db.jobs.wait(id)
    expect(done.status).toBe('done')
    expect(done.rowsDone).toBe(N)
    // only the rows not done before the cancel were computed again (the updated row was recomputed by its update)
    expect(computedRows).toBeLessThanOrEqual(N - cancelled.rowsDone)
    expect(computedRows).toBeGreaterThanOrEqual(N - cancelled.rowsDone - 1)

    const t2 = await db.getTable('docs')
    expect(t2.schema()).toEqual({ id: 'int', text: 'string', emb: 'int?' })
    const rows = (await t2.select('id', 'text', 'emb').orderBy(t2.c.id).collect()).rows
    expect(rows.length).toBe(N + 1)
    for (const r of rows) expect([r.id, r.emb]).toEqual([r.id, (r.text as string).length * 10])
    expect(await t2.where(t2.c.emb.errortype.isNotNull()).count()).toBe(0)
    // new rows compute the swapped-in column as usual
    await t2.insert({ id: N + 1, text: 'abcd' })
    expect((await t2.where(t2.c.id.eq(N + 1)).select('emb').collect()).rows).toEqual([{ emb: 40 }])
  }, 120_000)

  test('a job stopped by close() shows as interrupted after reopen and resumes', async () => {
    const t = await db!.getTable('docs')
    const j = await db!.jobs.start({ table: t, column: 'len2', expr: slowLen(t.c.text), batchSize: 200 })
    await until(async () => (await db!.jobs.get(j.id)).rowsDone >= 200)
    await db!.close()
    db = await Tessera.open({ home })
    const seen = await db.jobs.get(j.id)
    expect(seen.status).toBe('interrupted')
    expect(seen.rowsDone).toBeGreaterThanOrEqual(200)
    computedRows = 0
    await db.jobs.resume()
    const done = await db.jobs.wait(j.id)
    expect(done.status).toBe('done')
    expect(computedRows).toBe(done.rowsTotal - seen.rowsDone)
    const t2 = await db.getTable('docs')
    expect(await t2.where(t2.c.len2.ne(t2.c.emb)).count()).toBe(0)
    expect(await t2.where(t2.c.len2.isNull()).count()).toBe(0)
  }, 120_000)

  test('errors: a name in use, an unknown job, a failing expression with abort', async () => {
    const t = await db!.getTable('docs')
    await expect(await throwing(db!.jobs.start({ table: t, column: 'emb', expr: slowLen(t.c.text) }))).toThrow(/already has a column 'emb'; pass ifExists: 'replace'/)
    await expect(await throwing(db!.jobs.get(9999))).toThrow(/no job 9999/)
    const boom = udf({ name: 'test_job_boom', returns: 'int', fn: (s: string) => { if (s.length > 3) throw new Error('too long'); return 1 } })
    const j = await db!.jobs.start({ table: t, column: 'boom', expr: boom(t.c.text), onError: 'abort' })
    const failed = await db!.jobs.wait(j.id)
    expect(failed.status).toBe('failed')
    expect(failed.error).toContain('too long')
    const dropped = await db!.jobs.cancel(j.id, { dropColumn: true })
    expect(dropped.status).toBe('cancelled')
    expect(t.md.columns.some((c) => c.name.includes('boom'))).toBe(false)
    // with onError 'ignore' (the default for jobs) failures are per-cell errors
    const k = await db!.jobs.start({ table: t, column: 'boom', expr: boom(t.c.text) })
    expect((await db!.jobs.wait(k.id)).status).toBe('done')
    expect(await t.where(t.c.boom.errortype.isNotNull()).count()).toBe(await t.where(t.c.text.len().gt(3)).count())
  }, 120_000)
})
