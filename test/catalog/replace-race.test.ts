import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// createTable (createView, createSnapshot) with ifExists: 'replace' looked for the old table first and created the new one after: when another
// request created the table in between (two clients applying the same setup, a retried request), the replace was
// refused with 409 TABLE_ALREADY_EXISTS, "'t' already exists", which is what 'replace' asked not to be told. The
// transaction that records the new table now looks again and replaces what it finds, as any replace does.

let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(async () => { await db.close() })

test('replaces racing to create one table all succeed, and one table is left', async () => {
  // Both look for 'raced' before either creates it (the second's look is sent before the first's transaction).
  const made = await Promise.all([1, 2, 3].map((n) => db.createTable('raced', { id: 'int', [`c${n}`]: 'string?' }, { ifExists: 'replace' })))
  expect(made.length).toBe(3)
  expect(await db.listTables('')).toEqual(['raced'])
  const t = await db.getTable('raced')
  expect(Object.keys(t.schema()).length).toBe(2)
  await t.insert([{ id: 1 }])
  expect(await t.count()).toBe(1)
})

test('views and snapshots racing to replace one path all succeed, and one object is left, over its base', async () => {
  const base = await db.createTable('race_base', { id: 'int' })
  await base.insert([{ id: 1 }, { id: 2 }])
  const views = await Promise.all([1, 2, 3].map(() => db.createView('race_view', base, { where: base.c.id.ge(2), ifExists: 'replace' })))
  expect(views.length).toBe(3)
  const snaps = await Promise.all([1, 2, 3].map(() => db.createSnapshot('race_snap', base, { ifExists: 'replace' })))
  expect(snaps.length).toBe(3)
  expect((await db.listTables('')).sort()).toEqual(['race_base', 'race_snap', 'race_view', 'raced'])
  expect(await (await db.getTable('race_snap')).count()).toBe(2)
  expect(await (await db.getTable('race_view')).count()).toBe(1)
  await base.insert([{ id: 3 }])
  expect(await (await db.getTable('race_view')).count()).toBe(2)
})
