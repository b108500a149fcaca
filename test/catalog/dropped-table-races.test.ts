import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { translateStoreError } from '../../src/store/index.ts'
import { memoryDb } from '../support/db.ts'

// A table dropped between resolving it (a handle, a built query) and running a statement on it: the statement
// answers TABLE_NOT_FOUND naming the table's path, as a lookup after the drop would, never the store's own
// "relation does not exist" (a 500 over HTTP) nor the catalog's internal table id.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string; details?: Record<string, unknown> }> {
  return p.then(() => { throw new Error('expected a failure') }, (e) => e)
}

function expectDropped(e: { code?: string; message: string; details?: Record<string, unknown> }, path: string): void {
  expect(e.code).toBe('TABLE_NOT_FOUND')
  expect(e.message).toBe(`table '${path}' was dropped`)
  expect(e.details).toEqual({ path })
  expect(e.message).not.toMatch(/#\d|tessera_data/)
}

describe('a table dropped under a resolved handle', () => {
  test('a query built before the drop: collect() and count() name the path', async () => {
    db = await memoryDb()
    await db.createDir('races')
    const t = await db.createTable('races/q', { id: 'int', v: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, v: 'a' }, { id: 2, v: 'b' }])
    const q = t.where(t.c.id.gt(0))
    await db.dropTable('races/q')
    expectDropped(await failure(q.collect()), 'races/q')
    expectDropped(await failure(q.count()), 'races/q')
  })

  test('writes and reads through a handle after the drop name the path, not the internal id', async () => {
    db = await memoryDb()
    const t = await db.createTable('races_w', { id: 'int', v: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, v: 'a' }])
    await db.dropTable('races_w')
    expectDropped(await failure(t.insert([{ id: 2, v: 'b' }])), 'races_w')
    expectDropped(await failure(t.update({ v: 'z' })), 'races_w')
    expectDropped(await failure(Promise.resolve().then(() => t.select().collect())), 'races_w')
  })

  test('an insert whose data relation vanished mid-statement (one step, and staged) names the path', async () => {
    db = await memoryDb()
    for (const [path, n] of [['races_small', 1], ['races_staged', 5000]] as const) {
      const t = await db.createTable(path, { id: 'int', v: 'string' }, { primaryKey: 'id' })
      await t.insert([{ id: -1, v: 'a' }])
      // What a concurrent DROP TABLE leaves for a statement already past its catalog lookup: no data relation.
      await db.driver.query(`drop table tessera_data.t${t.id}`)
      expectDropped(await failure(t.insert(Array.from({ length: n }, (_, i) => ({ id: i, v: 'x' })))), path)
    }
  })

  test('the store errors themselves: a missing data relation is TABLE_NOT_FOUND, a missing cast is a 400', () => {
    const gone = translateStoreError({ code: '42P01', message: 'relation "tessera_data.t14" does not exist' }, { table: 'a/b' }) as { code: string; message: string }
    expect([gone.code, gone.message]).toEqual(['TABLE_NOT_FOUND', "table 'a/b' was dropped"])
    const seq = translateStoreError({ code: '42P01', message: 'relation "tessera_data.t14__rowid_seq" does not exist' }, { table: 'a/b' }) as { code: string }
    expect(seq.code).toBe('TABLE_NOT_FOUND')
    // Any other missing relation is not a dropped table: it stays internal.
    const other = { code: '42P01', message: 'relation "tessera.nope" does not exist' }
    expect(translateStoreError(other, { table: 'a/b' })).toBe(other)
    const cast = translateStoreError({ code: '42846', message: 'cannot cast type boolean to bigint' }, { table: 'a/b' }) as { code: string; status: number; message: string }
    expect([cast.code, cast.status]).toEqual(['INVALID_EXPRESSION', 400])
    expect(cast.message).toContain('cannot cast type boolean to bigint')
  })
})

describe('jobs name themselves by what they do, not by internal id', () => {
  test('resuming a job whose partial column was dropped names its column and table', async () => {
    db = await memoryDb()
    const t = await db.createTable('races_job', { id: 'int', v: 'string' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 50 }, (_, i) => ({ id: i, v: `V${i}` })))
    const job = await db.jobs.start({ table: t, column: 'lo', expr: t.c.v.lower(), batchSize: 10 })
    await db.jobs.cancel(job.id, { dropColumn: true })
    const e = await failure(db.jobs.resume(job.id))
    expect(e.message).toContain("background job computing column 'lo' of 'races_job' cannot resume")
    expect(e.message).not.toContain(`job ${job.id}`)
    expect(e.details).toEqual({ table: 'races_job', column: 'lo' })
  })
})
