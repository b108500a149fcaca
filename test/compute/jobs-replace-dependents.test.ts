import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera, udf } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir, templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A background job replacing a column (ifExists: 'replace') swaps its new column in when every row is computed, and
// the swap refuses a column other computed columns use. That refusal came only then: the job called its function
// (a model, an LLM) for every row, and failed at the end. It is refused when the job is started, before any call.

let calls = 0
const shout = udf({ name: 'test_job_shout', returns: 'string', params: ['string'], fn: (s: string) => (calls++, `${s.toUpperCase()}!`) })

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
  t = await db.createTable('t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
  await t.addComputedColumn('up', t.c.s.upper())
  await t.addComputedColumn('up2', t.c.up.concat('?'))
})
afterAll(async () => { await db.close() })

test('a job replacing a column that computed columns use is refused at start, naming them; nothing is called or added', async () => {
  const before = t.version
  const e = (await rejection(db.jobs.start({ table: t, column: 'up', expr: shout(t.c.s), ifExists: 'replace' }))) as { code?: string; message: string }
  expect(e.code).toBe('HAS_DEPENDENTS')
  expect(e.message).toBe("column 'up' is used by computed column(s) 'up2'; drop those before a background job replaces it")
  expect(calls).toBe(0)
  expect(t.version).toBe(before)
  expect(await db.jobs.list()).toEqual([])
})

test('a primary key column is refused at start too; once the dependents are gone the job replaces the column', async () => {
  expect(((await rejection(db.jobs.start({ table: t, column: 'id', expr: t.c.id.add(1), ifExists: 'replace' }))) as { code?: string }).code).toBe('HAS_DEPENDENTS')
  await t.dropColumn('up2')
  const job = await db.jobs.start({ table: t, column: 'up', expr: shout(t.c.s), ifExists: 'replace' })
  await db.jobs.wait(job.id)
  expect((await t.orderBy(t.c.id).select('up').collect()).rows).toEqual([{ up: 'A!' }, { up: 'B!' }])
  expect(calls).toBe(2)
})
