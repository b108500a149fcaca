import { afterEach, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { importData } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// Imports started together into a table that does not exist yet: one creates it, the others import into it, as
// they would one after another (before, the ones that lost the race to create it failed TABLE_ALREADY_EXISTS).

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const bytes = (text: string) => new TextEncoder().encode(text)
const csv = (from: number, n: number) => bytes(`id,v\n${Array.from({ length: n }, (_, i) => `${from + i},r${from}`).join('\n')}\n`)

test('three concurrent imports into a missing table: one creates it, all three import', async () => {
  db = await memoryDb()
  const results = await Promise.all([0, 1000, 2000].map((from) => importData(db!, 'imp_race', csv(from, 500), { format: 'csv', primaryKey: 'id' })))
  expect(results.filter((r) => r.created)).toHaveLength(1)
  expect(results.map((r) => r.rowsInserted)).toEqual([500, 500, 500])
  const t = await db.getTable('imp_race')
  expect(t.schema()).toEqual({ id: 'int', v: 'string' })
  expect(await t.count()).toBe(1500)
})

test('over HTTP: three concurrent POST import answer 201, and the rows of all three are there', async () => {
  db = await memoryDb()
  await db.createDir('a')
  const app = createApp(db)
  const post = (from: number) => app.request('/api/v1/tables/a/imp2c/-/import?format=csv&primaryKey=id', { method: 'POST', body: csv(from, 300) })
  const answers = await Promise.all([0, 1000, 2000].map(async (from) => {
    const res = await post(from)
    return { status: res.status, body: (await res.json()) as { created?: boolean; error?: { code: string } } }
  }))
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201])
  expect(answers.filter((a) => a.body.created)).toHaveLength(1)
  expect(await (await db.getTable('a/imp2c')).count()).toBe(900)
})

test('the table another import created has other types: this import fails as an import into that table would', async () => {
  db = await memoryDb()
  // The first import makes v an int; the second, inferring a string column, meets that table instead of creating it.
  const [a, b] = await Promise.allSettled([
    importData(db, 'imp_mismatch', bytes('id,v\n1,10\n2,20\n'), { format: 'csv', primaryKey: 'id' }),
    importData(db, 'imp_mismatch', bytes('id,v\n3,x\n'), { format: 'csv', primaryKey: 'id' }),
  ])
  const outcomes = [a, b].map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))
  const t = await db.getTable('imp_mismatch')
  if (t.schema().v === 'int') {
    // The int import won: the string row is refused by name, and nothing of it was written.
    expect(outcomes).toEqual(['ok', 'INVALID_ROW'])
    expect(((b as PromiseRejectedResult).reason as Error).message).toContain("column 'v'")
    expect(await t.count()).toBe(2)
  } else {
    // The string import won: ints convert to strings.
    expect(outcomes).toEqual(['ok', 'ok'])
    expect(await t.count()).toBe(3)
  }
})
