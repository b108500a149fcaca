import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A second job computing the same column while the first still ran was accepted (201): it computed the whole column
// again and then failed at its last step ("'t' got a column 'j' while the job ran"), or, with ifExists 'replace',
// overwrote the first one's column. Six clients starting the same backfill at once made six backfills. Now the
// second start is refused at once, naming the job that is already computing the column.

let db: Tessera
let app: ReturnType<typeof createApp>
let open!: () => void
const gate = new Promise<void>((resolve) => (open = resolve))
let entered!: () => void
const computing = new Promise<void>((resolve) => (entered = resolve))

// The first batch waits for the gate: the first job is running for as long as the test needs it to be.
const slowLen = udf({
  name: 'test_job_twice_slow_len', returns: 'int', batchSize: 100,
  fn: async (texts: string[]) => {
    entered()
    await gate
    return texts.map((s) => s.length)
  },
})

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  const t = await db.createTable('twice', { id: 'int', s: 'string' })
  await t.insert([{ id: 1, s: 'a' }, { id: 2, s: 'bb' }])
})
afterAll(async () => {
  open()
  await db.close()
})

const startOverHttp = async (body: unknown) => {
  const res = await app.request('/api/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as { id?: string; error?: { code?: string; message?: string; details?: { job?: string } } } }
}

test('a second job for a column a job is computing is refused, naming that job; once it ended, one may start', async () => {
  const t = await db.getTable('twice')
  const first = await db.jobs.start({ table: t, column: 'n', expr: slowLen(t.c.s) })
  await computing

  const lower = { fn: 'lower', args: [{ col: 's' }] }
  for (const ifExists of [undefined, 'replace']) {
    const r = await startOverHttp({ table: 'twice', column: 'n', expr: lower, ...(ifExists ? { ifExists } : {}) })
    expect([ifExists, r.status, r.body.error?.code, r.body.error?.details?.job]).toEqual([ifExists, 409, 'COLUMN_ALREADY_EXISTS', first.key])
    expect(r.body.error?.message).toContain(`job ${first.key} is already computing column 'n' of 'twice'`)
  }
  const e = await rejection(db.jobs.start({ table: t, column: 'n', expr: t.c.s.upper(), ifExists: 'replace' })) as { code?: string }
  expect(e.code).toBe('COLUMN_ALREADY_EXISTS')
  // Another column of the same table is another job.
  const other = await startOverHttp({ table: 'twice', column: 'other', expr: lower })
  expect(other.status).toBe(201)
  expect((await db.jobs.list()).filter((j) => j.column === 'n').map((j) => j.key)).toEqual([first.key])

  open()
  expect((await db.jobs.wait(first.id)).status).toBe('done')
  const again = await startOverHttp({ table: 'twice', column: 'n', expr: { fn: 'upper', args: [{ col: 's' }] }, ifExists: 'replace' })
  expect(again.status).toBe(201)
  for (const j of await db.jobs.list()) await db.jobs.wait(j.id)
  const after = await db.getTable('twice')
  expect((await after.select('id', 'n').orderBy(after.c.id).collect()).rows).toEqual([{ id: 1, n: 'A' }, { id: 2, n: 'BB' }])
})
