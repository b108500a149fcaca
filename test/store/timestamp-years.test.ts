import { afterAll, describe, expect, test } from 'bun:test'
import { exportQuery, importFile } from '../../src/index.ts'
import type { Tessera } from '../../src/index.ts'
import { storeEnabled } from '../conformance/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { dropCreatedDatabases, pgSkipReason, serverDb } from './pg-support.ts'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

// Timestamps of years 1-99 read back 1900 or 2000 years late: both stores' drivers parsed Postgres' text
// ('0050-06-15 12:00:00+00') with `new Date(text)`, whose legacy reader takes a two-digit year as 19xx/20xx. The stored
// value was right (year() said 50). Each value must come back as the Date inserted, through every read path.

const YEARS = ['0001-01-01T00:00:00.001Z', '0050-06-15T12:00:00.123Z', '0099-12-31T23:59:59.999Z', '0100-01-01T00:00:00.500Z',
  '1000-03-01T01:02:03.004Z', '1969-12-31T23:59:59.999Z', '2024-02-29T10:11:12.345Z', '9999-12-31T23:59:59.999Z']
const DATES = YEARS.map((s) => new Date(s))

function roundTrip(open: () => Promise<Tessera>): void {
  test('insert, read back, filter, year() and export of years 1 to 9999', async () => {
    const db = await open()
    try {
      await db.createDir('a')
      const t = await db.createTable('a/t', { id: 'int', ts: 'timestamp?' })
      await t.insert(DATES.map((ts, id) => ({ id, ts })))
      const back = (await t.orderBy(t.c.id).collect()).toObjects().map((r) => (r.ts as Date).toISOString())
      expect(back).toEqual(YEARS)

      // A filter on the Date itself finds each row (the value in the store is the one inserted).
      for (const [id, d] of DATES.entries()) {
        const rows = (await t.where(t.c.ts.eq(d)).collect()).toObjects()
        expect(rows.map((r) => r.id)).toEqual([id])
      }
      expect(await t.where(t.c.ts.lt(new Date('0100-01-01T00:00:00Z'))).count()).toBe(3)
      const years = (await t.select({ id: t.c.id, y: t.c.ts.year() }).orderBy(t.c.id).collect()).toObjects().map((r) => r.y)
      expect(years).toEqual([1, 50, 99, 100, 1000, 1969, 2024, 9999])

      // A bulk insert (binary COPY) reads back the same.
      const big = await db.createTable('a/big', { id: 'int', ts: 'timestamp' })
      await big.insert(Array.from({ length: 2100 }, (_, id) => ({ id, ts: DATES[id % DATES.length]! })))
      const bulk = (await big.where(big.c.id.lt(DATES.length)).orderBy(big.c.id).collect()).toObjects().map((r) => (r.ts as Date).toISOString())
      expect(bulk).toEqual(YEARS)

      // Export and import again: the file holds the years inserted, and reading it back gives the same Dates.
      const dir = tempDir('ts-years')
      const file = join(dir, 'out.csv')
      await exportQuery(t.orderBy(t.c.id), file)
      const text = readFileSync(file, 'utf8')
      for (const y of ['0001-01-01', '0050-06-15', '0099-12-31']) expect(text).toContain(y)
      await importFile(db, 'a/again', file, { schema: { id: 'int', ts: 'timestamp?' } })
      const again = await db.getTable('a/again')
      const reread = (await again.orderBy(again.c.id).collect()).toObjects().map((r) => (r.ts as Date).toISOString())
      expect(reread).toEqual(YEARS)
    } finally {
      await db.close()
    }
  }, 120_000)
}

describe('timestamps of years 1 to 9999, embedded store', () => roundTrip(memoryDb))

const skip = pgSkipReason()
if (skip && storeEnabled('postgres')) console.warn(skip)
const onServer = storeEnabled('postgres') && !skip ? describe : describe.skip
afterAll(() => dropCreatedDatabases(), 30_000)
onServer('timestamps of years 1 to 9999, server store', () => roundTrip(serverDb))
