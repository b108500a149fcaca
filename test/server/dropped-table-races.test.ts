import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'

// Requests racing a DROP TABLE, made deterministic: the table is dropped right after the route resolved it. Each
// answers 404 TABLE_NOT_FOUND naming the path the request used (never a 500, never an internal id); a job's event
// stream ends with an end event saying why. Also: astype from bool, which Postgres casts only through integer.

let db: Tessera
let app: ReturnType<typeof createApp>
let call: ReturnType<typeof jsonCaller>
/** Paths whose next lookup drops the table right after resolving it (one request each). */
const dropAfterLookup = new Set<string>()

beforeAll(async () => {
  db = await memoryDb()
  const getTable = db.getTable.bind(db)
  db.getTable = async (path: string) => {
    const t = await getTable(path)
    if (dropAfterLookup.delete(path)) await db.dropTable(path)
    return t
  }
  app = createApp(db)
  call = jsonCaller(app)
  await db.createDir('race')
})
afterAll(async () => {
  await db.close()
})

async function fresh(path: string): Promise<void> {
  await db.createTable(path, { id: 'int', v: 'string' }, { primaryKey: 'id', ifExists: 'replace' })
  await (await db.getTable(path)).insert([{ id: 1, v: 'a' }, { id: 2, v: 'b' }])
  dropAfterLookup.add(path)
}

function expectDropped(r: { status: number; body: any }, path: string): void {
  expect(r.status).toBe(404)
  expect(r.body.error.code).toBe('TABLE_NOT_FOUND')
  expect(r.body.error.message).toContain(`'${path}' was dropped`)
  expect(r.body.error.message).not.toMatch(/#\d|tessera_data/)
  expect(r.body.error.details?.id).toBeUndefined()
}

describe('a request racing a DROP TABLE', () => {
  test('POST /query answers 404 naming the table', async () => {
    await fresh('race/q')
    expectDropped(await call('POST', '/api/v1/query', { table: 'race/q', where: { fn: 'gt', args: [{ col: 'id' }, { lit: 0 }] }, limit: 5 }), 'race/q')
  })

  test('PATCH rows answers 404 naming the table', async () => {
    await fresh('race/p')
    expectDropped(await call('PATCH', '/api/v1/tables/race/p/-/rows', { values: { v: { lit: 'z' } } }), 'race/p')
  })

  test('POST rows answers 404 naming the table', async () => {
    await fresh('race/i')
    expectDropped(await call('POST', '/api/v1/tables/race/i/-/rows', { rows: [{ id: 3, v: 'c' }] }), 'race/i')
  })
})

describe('background jobs and a dropped table', () => {
  async function startJob(path: string): Promise<string> {
    await db.createTable(path, { id: 'int', v: 'string' }, { primaryKey: 'id', ifExists: 'replace' })
    await (await db.getTable(path)).insert(Array.from({ length: 20_000 }, (_, i) => ({ id: i, v: `Hello${i}` })))
    const started = await call('POST', '/api/v1/jobs', { table: path, column: 'lo', expr: { fn: 'lower', args: [{ col: 'v' }] }, batchSize: 20 })
    expect(started.status).toBe(201)
    return started.body.id as string
  }

  test('the event stream ends with an end event: cancelled, because the table was dropped', async () => {
    const key = await startJob('race/job')
    const res = await app.request(`/api/v1/jobs/${key}/events?intervalMs=100`)
    const body = res.text()
    await Bun.sleep(200)
    await db.dropTable('race/job')
    const text = await body
    const events = text.trim().split('\n\n').map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1],
      data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'),
    }))
    const end = events.at(-1)!
    expect(end.event).toBe('end')
    expect(end.data).toMatchObject({ id: key, table: 'race/job', column: 'lo', status: 'cancelled', error: "table 'race/job' was dropped" })
  })

  test('cancel racing the drop names the job by its column and table, not its internal id', async () => {
    const key = await startJob('race/job2')
    const cancel = db.jobs.cancel.bind(db.jobs)
    db.jobs.cancel = async (id, options) => {
      await db.dropTable('race/job2')
      return cancel(id, options)
    }
    try {
      const r = await call('POST', `/api/v1/jobs/${key}/cancel`)
      expect(r.status).toBe(404)
      expect(r.body.error.code).toBe('JOB_NOT_FOUND')
      expect(r.body.error.message).toBe("the job computing column 'lo' of 'race/job2' is gone: table 'race/job2' was dropped")
    } finally {
      db.jobs.cancel = cancel
    }
  })
})

describe('astype from bool', () => {
  test('to int and float: true → 1, false → 0; a cast Postgres lacks is a 400 naming the expression', async () => {
    await db.createTable('race/cast', { id: 'int', b: 'bool?', d: 'date?' }, { primaryKey: 'id' })
    await (await db.getTable('race/cast')).insert([{ id: 1, b: true, d: '2024-01-02' }, { id: 2, b: false }, { id: 3 }])
    for (const type of ['int', 'float']) {
      const r = await call('POST', '/api/v1/query', { table: 'race/cast', select: [{ name: 'x', expr: { fn: 'astype', args: [{ col: 'b' }], opts: { type } } }], orderBy: [{ expr: { col: 'id' } }] })
      expect(r.status).toBe(200)
      expect(r.body.columns).toEqual([{ name: 'x', type: `${type}?` }])
      expect(r.body.rows).toEqual([{ x: 1 }, { x: 0 }, { x: null }])
    }
    const bad = await call('POST', '/api/v1/query', { table: 'race/cast', select: [{ name: 'x', expr: { fn: 'astype', args: [{ col: 'd' }], opts: { type: 'int' } } }] })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('INVALID_EXPRESSION')
    expect(bad.body.error.message).toBe('select[0].expr: cannot cast date to int in astype(d, type="int")')
  })
})
