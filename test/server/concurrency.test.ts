import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { runtime } from '../../src/runtime/index.ts'
import type { RunningServer } from '../../src/runtime/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A bounded load test over real HTTP on loopback: concurrent inserts, updates and queries must lose nothing,
// duplicate nothing, and every read must see a consistent version.

let db: Tessera
let server: RunningServer
beforeAll(async () => {
  db = await memoryDb()
  server = await (await runtime()).serve(createApp(db).fetch, { port: 0, hostname: '127.0.0.1' })
})
afterAll(async () => {
  await server.stop()
  await db.close()
})

test('concurrent inserts, updates and queries: no lost or duplicated rows, consistent reads', async () => {
  const client = connect(`http://127.0.0.1:${server.port}`)
  const t = await client.createTable('load', { id: 'int', worker: 'int', a: 'int', b: 'int' }, { primaryKey: 'id' })
  const WORKERS = 6
  const BATCHES = 8
  const PER_BATCH = 25
  let inconsistentReads = 0
  let reads = 0

  const worker = async (w: number) => {
    const c = connect(`http://127.0.0.1:${server.port}`)
    const table = await c.getTable('load')
    for (let b = 0; b < BATCHES; b++) {
      const rows = Array.from({ length: PER_BATCH }, (_, i) => ({ id: w * 100000 + b * PER_BATCH + i, worker: w, a: 0, b: 0 }))
      await table.insert(rows)
      // a and b always change together, in one statement: no reader may ever see them differ.
      await table.update({ a: table.c.a.add(1), b: table.c.b.add(1) }, { where: table.c.worker.eq(w) })
    }
  }
  const reader = async () => {
    const c = connect(`http://127.0.0.1:${server.port}`)
    const table = await c.getTable('load')
    for (let i = 0; i < 40; i++) {
      inconsistentReads += await table.where(table.c.a.ne(table.c.b)).count()
      reads++
    }
  }
  await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), reader(), reader()])

  expect(reads).toBe(80)
  expect(inconsistentReads).toBe(0)
  const total = WORKERS * BATCHES * PER_BATCH
  expect(await t.count()).toBe(total)
  const ids = (await t.select('id').collect()).column('id')
  expect(new Set(ids).size).toBe(total)
  // each worker's rows were updated once per batch after they were inserted: batch b's rows got BATCHES - b updates
  const rows = (await t.select('id', 'a', 'b').collect()).rows as { id: number; a: number; b: number }[]
  for (const r of rows) {
    const batch = Math.floor((r.id % 100000) / PER_BATCH)
    expect(r.a).toBe(BATCHES - batch)
    expect(r.b).toBe(r.a)
  }
  const history = await t.history()
  const versions = history.map((h) => h.version).reverse()
  expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i)) // strictly increasing, no gaps
  expect(history.reduce((s, h) => s + h.inserted, 0)).toBe(total)
}, 120000)
