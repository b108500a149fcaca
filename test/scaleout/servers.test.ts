import { afterAll, expect, test } from 'bun:test'
import { dropCreatedDatabases, freshDatabaseUrl, pgSkipReason } from '../store/pg-support.ts'
import type { ServerProcess } from './support.ts'
import { call, startServer } from './support.ts'

// Three `tessera serve` processes on one PostgreSQL database, hammered at once with inserts, updates and schema
// changes (bounded; loopback only): no row lost or duplicated, versions gapless and strictly increasing, and every
// process serves the final schema.

const skip = pgSkipReason()
if (skip) console.warn(skip)
const servers: ServerProcess[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await dropCreatedDatabases()
}, 30_000)

const WORKERS = 3
const BATCHES = 6
const PER_BATCH = 20

test.skipIf(!!skip)('3 processes, one database: concurrent inserts, updates and schema changes', async () => {
  const database = await freshDatabaseUrl('tessera_so')
  // Started together: their catalog migrations on the empty database must not collide.
  servers.push(...(await Promise.all(Array.from({ length: WORKERS }, () => startServer(database)))))
  const [a, b, c] = servers.map((s) => s.url) as [string, string, string]
  await call(a, 'POST', '/tables', { path: 'load', schema: { id: 'int', worker: 'int', batch: 'int', n: 'int' }, primaryKey: 'id' })

  const errors: string[] = []
  const worker = async (w: number) => {
    const base = servers[w]!.url
    for (let bt = 0; bt < BATCHES; bt++) {
      const rows = Array.from({ length: PER_BATCH }, (_, i) => ({ id: w * 10_000 + bt * PER_BATCH + i, worker: w, batch: bt, n: 0 }))
      await call(base, 'POST', '/tables/load/-/rows', { rows })
      // n counts the updates a row has seen: rows of batch bt see BATCHES - bt of them.
      await call(base, 'PATCH', '/tables/load/-/rows', { values: { n: { fn: 'add', args: [{ col: 'n' }, { lit: 1 }] } }, where: { fn: 'eq', args: [{ col: 'worker' }, { lit: w }] } })
      // Schema changes race with the other processes' writes: one column per worker, and one they all add.
      if (bt === 1) await call(base, 'POST', '/tables/load/-/columns', { name: `w${w}`, type: 'string?' })
      if (bt === 3) await call(base, 'POST', '/tables/load/-/columns', { name: 'shared', type: 'int?', ifExists: 'ignore' }).catch((e) => errors.push(String(e)))
    }
  }
  await Promise.all([0, 1, 2].map(worker))
  expect(errors).toEqual([])

  // Process A adds a column; B's very next insert and C's very next query use it.
  await call(a, 'POST', '/tables/load/-/columns', { name: 'late', type: 'int?' })
  await call(b, 'POST', '/tables/load/-/rows', { rows: [{ id: 99_999, worker: 9, batch: 0, n: 0, late: 42 }] })
  const late = await call<{ rows: { late: number }[] }>(c, 'POST', '/tables/load/-/query', { select: { late: { col: 'late' } }, where: { fn: 'eq', args: [{ col: 'id' }, { lit: 99_999 }] } })
  expect(late.rows).toEqual([{ late: 42 }])

  const all = await call<{ rows: { id: number; worker: number; batch: number; n: number }[]; total: number }>(c, 'GET', '/tables/load/-/rows?limit=10000')
  const loaded = all.rows.filter((r) => r.worker !== 9)
  expect(loaded.length).toBe(WORKERS * BATCHES * PER_BATCH)
  expect(new Set(loaded.map((r) => r.id)).size).toBe(loaded.length)
  expect(loaded.filter((r) => r.n !== BATCHES - r.batch)).toEqual([])

  const { versions } = await call<{ versions: { version: number; kind: string; inserted: number }[] }>(b, 'GET', '/tables/load/-/history')
  const asc = versions.map((v) => v.version).sort((x, y) => x - y)
  expect(asc).toEqual(Array.from({ length: asc.length }, (_, i) => i))
  expect(versions.filter((v) => v.kind === 'insert').reduce((s, v) => s + Number(v.inserted), 0)).toBe(WORKERS * BATCHES * PER_BATCH + 1)
  // create + 18 inserts + 18 updates + 3 worker columns + 1 shared + 1 late + 1 insert
  expect(asc.length).toBe(1 + 2 * WORKERS * BATCHES + WORKERS + 1 + 1 + 1)

  const infos = await Promise.all(servers.map((s) => call<{ version: number; columns: { name: string; type: string }[] }>(s.url, 'GET', '/tables/load')))
  const expected = { id: 'int', worker: 'int', batch: 'int', n: 'int', w0: 'string?', w1: 'string?', w2: 'string?', shared: 'int?', late: 'int?' }
  for (const info of infos) {
    expect(Object.fromEntries(info.columns.map((c) => [c.name, c.type]))).toEqual(expected)
    expect(info.version).toBe(asc[asc.length - 1]!)
  }
}, 120_000)
