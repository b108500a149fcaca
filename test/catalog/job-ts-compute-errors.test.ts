import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A background job computing a TypeScript column with onError 'abort' fails naming the column the job computes and
// its expression, as a SQL-computed job does (batch-update-computed-errors.test.ts). It named the job's hidden
// column ('_job1_width'), which users never see.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const picky = udf({ name: 'test_tsjob_picky', returns: 'int', params: ['string'], fn: (s: string) => { if (s === 'bad') throw new Error('cannot take bad'); return s.length } })

describe('a background job computing a TypeScript column that fails on a row', () => {
  test('its error names the column (not its hidden one) and the expression', async () => {
    db = await memoryDb()
    const t = await db.createTable('notes', { id: 'int', note: 'string' })
    await t.insert([{ id: 1, note: 'fine' }, { id: 2, note: 'bad' }])
    const job = await db.jobs.start({ table: t, column: 'width', expr: picky(t.c.note), onError: 'abort' })
    await db.jobs.wait(job.id).then(() => undefined, () => undefined)
    const done = await db.jobs.get(job.id)
    expect(done.status).toBe('failed')
    expect(done.error).toContain("computed column 'width' of 'notes'")
    expect(done.error).toContain('test_tsjob_picky(note)')
    expect(done.error).toContain('cannot take bad')
    expect(done.error).not.toContain('_job1')
  })
})
