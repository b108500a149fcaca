import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// An SQL-computed column failing on new values fails batchUpdate (and upsert) as it fails update: COMPUTATION_FAILED
// naming the column and its expression, nothing written. batchUpdate reported the store's raw error as
// INVALID_ARGUMENT 'bad value'. A background job computing such a column names them in its error text too.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const fail = <T>(p: Promise<T>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string; details?: Record<string, unknown> })

async function table(rows: number) {
  db = await memoryDb()
  const t = await db.createTable('t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: rows }, (_, i) => ({ id: i, s: String(i) })))
  await t.addComputedColumn('n', t.c.s.astype('int'))
  return t
}

describe('a SQL-computed column failing on batchUpdate values', () => {
  test('batchUpdate and upsert report what update reports; nothing is written', async () => {
    const t = await table(3)
    const expected = await fail(t.update({ s: 'abc' }, { where: t.c.id.eq(1) }))
    expect(expected?.code).toBe('COMPUTATION_FAILED')
    for (const run of [() => t.batchUpdate([{ id: 1, s: 'abc' }]), () => t.batchUpdate([{ id: 1, s: 'abc' }, { id: 9, s: '9' }], { ifNotExists: 'insert' }), () => t.upsert([{ id: 1, s: 'abc' }])]) {
      const e = await fail(run())
      expect(e?.code).toBe('COMPUTATION_FAILED')
      expect(e?.message).toBe(expected!.message)
      expect(e?.details).toEqual({ table: 't', column: 'n', expression: 'astype(s, type="int")' })
    }
    expect(t.version).toBe(2)
    expect((await t.select('id', 'n').orderBy('id').collect()).rows).toEqual([{ id: 0, n: 0 }, { id: 1, n: 1 }, { id: 2, n: 2 }])
  })

  test('a batchUpdate written in steps (hundreds of rows) fails the same way, leaving nothing', async () => {
    const t = await table(600)
    const rows = Array.from({ length: 600 }, (_, i) => ({ id: i, s: i === 550 ? 'abc' : String(i + 1) }))
    const e = await fail(t.batchUpdate(rows))
    expect(e?.code).toBe('COMPUTATION_FAILED')
    expect(e?.message).toContain("computed column 'n' of 't'")
    expect(e?.message).toContain('astype(s, type="int")')
    expect(await t.where(t.c.n.eq(t.c.id)).count()).toBe(600)
  })
})

describe('a background job computing a SQL column that fails on a row', () => {
  test("its error names the column (not its hidden one) and the expression", async () => {
    db = await memoryDb()
    const t = await db.createTable('t', { id: 'int', s: 'string' })
    await t.insert([{ id: 1, s: '5' }, { id: 2, s: 'abc' }])
    const job = await db.jobs.start({ table: t, column: 'n', expr: t.c.s.astype('int'), onError: 'abort' })
    await db.jobs.wait(job.id).then(() => undefined, () => undefined)
    const done = await db.jobs.get(job.id)
    expect(done.status).toBe('failed')
    expect(done.error).toContain("computed column 'n' of 't'")
    expect(done.error).toContain('cannot cast "abc" to int in astype(s, type="int")')
    expect(done.error).not.toContain('_job')
  })
})
