import { afterEach, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { runInSteps } from '../../src/catalog/commit.ts'
import type { CatalogContext } from '../../src/catalog/table.ts'
import type { Driver, Queryable } from '../../src/store/index.ts'
import { memoryDb } from '../support/db.ts'

// A big write on the embedded store goes in steps of about 40 ms of store time each (src/catalog/commit.ts), sized
// from the time per row of the steps before. Under a steady read load every step first waits for its turn (the
// scheduler's aging limit plus the reads in flight): that wait is no store time. Counted as time per row, it shrank
// the steps toward one row, each paying the whole wait again (a 20,000-row update under 8 clients' reads took ~85 s,
// ~1 s alone). Here each turn waits WAIT_MS before it starts, as it would behind reads; the number of steps must stay
// about what the store time calls for. Counts only, with generous bounds; no timings.

/** Longer than a step's target (40 ms): sized from wall time, steps would shrink toward one row. */
const WAIT_MS = 60
/** Turns after which a write is failed rather than left to crawl a row a step (the bug this tests). */
const GUARD = 120

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

/** Makes every transaction of the driver (or only background ones) wait WAIT_MS for its turn; counts them. */
function delayTurns(driver: Driver, only?: 'background') {
  const counter = { transactions: 0 }
  const transaction = driver.transaction.bind(driver)
  driver.transaction = async (fn, options) => {
    if (only && options?.priority !== only) return transaction(fn, options)
    if (++counter.transactions > GUARD) throw new Error(`more than ${GUARD} transactions: steps shrank`)
    await sleep(WAIT_MS)
    return transaction(fn, options)
  }
  return counter
}

test('runInSteps sizes a step from the store time it held, not from its wait for its turn', async () => {
  let left = 20_000
  const sizes: number[] = []
  const db = {
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => {
      await sleep(WAIT_MS)
      return fn({} as Queryable)
    },
  } as unknown as Driver
  await runInSteps({ db } as unknown as CatalogContext, 1, async (_tx, limit) => {
    if (sizes.length >= GUARD) throw new Error('steps shrank')
    const n = Math.min(limit, left)
    sizes.push(n)
    left -= n
    await sleep(Math.ceil(n / 1000)) // ~1 µs a row of store time
    return n
  })
  expect(left).toBe(0)
  // 200 rows first, then the most a step takes (5,000): a handful of steps (before: a row a step after ~20 steps)
  expect(sizes.length).toBeLessThan(15)
  expect(Math.max(...sizes.slice(1))).toBeGreaterThan(1_000)
})

test('an update and a computed column backfill whose every step waits for its turn still go in few steps', async () => {
  db = await memoryDb()
  const t = await db.createTable('steps', { id: 'int', v: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: 6_000 }, (_, i) => ({ id: i, v: `x${i}` })))
  const turns = delayTurns(db.driver)

  const updated = await t.update({ v: 'z' })
  expect(updated.numUpdated).toBe(6_000)
  // 200 rows, then steps sized to ~40 ms of store time (at most 5,000 rows), and the final step
  expect(turns.transactions).toBeLessThan(40)

  turns.transactions = 0
  await t.addComputedColumn('u', t.c.v.upper())
  expect(turns.transactions).toBeLessThan(40)
  expect(await t.where(t.c.u.eq('Z')).count()).toBe(6_000)
})

test('an insert by COPY whose every COPY waits for its turn still grows its COPYs past the first', async () => {
  db = await memoryDb()
  const t = await db.createTable('copies', { id: 'int', v: 'string' })
  const driver = db.driver
  const sizes: number[] = []
  const copyBinaryFrom = driver.copyBinaryFrom!.bind(driver)
  driver.copyBinaryFrom = async (target, payload, options) => {
    if (sizes.push(payload.byteLength) > GUARD) throw new Error('COPYs shrank')
    await sleep(WAIT_MS)
    return copyBinaryFrom(target, payload, options)
  }
  const rows = 40_000
  const status = await t.insert(Array.from({ length: rows }, (_, i) => ({ id: i, v: `x${i % 10}` })))
  expect(status.numInserted).toBe(rows)
  // Rows of the same size: a COPY's bytes tell its rows. The first holds 1,000 rows; the next are sized from the store
  // time a row took, up to 10,000 (before: the wait made every row look slow, and each COPY held the floor of 1,000).
  expect(sizes.length).toBeGreaterThan(1)
  expect(Math.max(...sizes.slice(1))).toBeGreaterThan(sizes[0]! * 1.5)
  expect(sizes.length).toBeLessThan(30)
  expect(await t.count()).toBe(rows)
})

test("a background job's batches are sized from the store time they held, not from their wait for the table or the store", async () => {
  db = await memoryDb()
  const t = await db.createTable('job_steps', { id: 'int', v: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: 3_000 }, (_, i) => ({ id: i, v: 'x'.repeat(i % 13) })))
  const len = udf({ name: 'test_step_sizing_len', returns: 'int', fn: (s: string) => s.length })
  const turns = delayTurns(db.driver, 'background')
  const job = await db.jobs.start({ table: t, column: 'n', expr: len(t.c.v), batchSize: 1_000 })
  const done = await db.jobs.wait(job.id)
  expect(done.error).toBeNull()
  expect(done.status).toBe('done')
  // batches of up to 1,000 rows sized from their store time, and the reveal (before: the wait counted, each batch
  // was smaller than the one before, and the job crawled a row a batch)
  expect(turns.transactions).toBeLessThan(60)
  expect(await t.where(t.c.n.eq(12)).count()).toBe(Math.floor(3_000 / 13))
})

test('a big update commits in a bounded number of steps while readers keep querying the table', async () => {
  db = await memoryDb()
  const t = await db.createTable('busy', { id: 'int', v: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: 10_000 }, (_, i) => ({ id: i, v: `x${i}` })))
  const driver = db.driver
  let transactions = 0
  const transaction = driver.transaction.bind(driver)
  driver.transaction = (fn, options) => {
    if (++transactions > 400) throw new Error('steps shrank')
    return transaction(fn, options)
  }
  let stop = false
  let reads = 0
  const readers = Array.from({ length: 6 }, async () => {
    while (!stop) {
      await t.where(t.c.id.gt(5)).limit(20).collect()
      reads++
    }
  })
  await sleep(50)
  const readsBefore = reads
  const status = await t.update({ v: 'z' }).finally(() => (stop = true))
  await Promise.all(readers)
  expect(status.numUpdated).toBe(10_000)
  expect(reads).toBeGreaterThan(readsBefore)
  // each step waits behind the readers, but is sized from its store time (before: hundreds to thousands of steps)
  expect(transactions).toBeLessThan(80)
})
