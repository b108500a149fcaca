import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A view or snapshot created while its base is dropped (with force) is either created and then dropped with the
// base, or not created at all: never left in the catalog over a table that no longer exists (listed, unreadable,
// reported by check()). Its creation locks the base's catalog row, which a drop locks before listing dependents.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error & { code?: string }) => e.code ?? `${e.name}: ${e.message}`)

/** Nothing over the dropped base is left: no catalog entry, no problem check() finds, and the path can be reused. */
async function expectNoOrphan(db: Tessera, path: string): Promise<void> {
  expect(await db.listTables()).not.toContain(path)
  expect((await db.check()).problems).toEqual([])
  await db.createTable(path, { id: 'int' })
  await db.dropTable(path)
}

describe('creating a dependent while its base is dropped', () => {
  for (const kind of ['view', 'snapshot'] as const) {
    test(`a ${kind} whose base is dropped just before its catalog write is not created`, async () => {
      db = await memoryDb()
      const d = db
      const t = await d.createTable('dd_base', { id: 'int', s: 'string' })
      await t.insert([{ id: 1, s: 'a' }])
      // The drop commits right before the next transaction (the one that records the view or snapshot) starts, after
      // the creation resolved its base: the moment that left an orphan.
      const driver = d.driver
      const transaction = driver.transaction.bind(driver)
      let armed = true
      driver.transaction = (async (fn: never, options?: never) => {
        if (armed) (armed = false, await d.dropTable('dd_base', { force: true }))
        return transaction(fn, options)
      }) as typeof driver.transaction
      const create = kind === 'view' ? d.createView('dd_dep', 'dd_base') : d.createSnapshot('dd_dep', 'dd_base')
      const e = await create.then(() => undefined, (x: Error & { code?: string }) => x)
      expect(armed).toBe(false)
      expect(e?.code).toBe('TABLE_NOT_FOUND')
      expect(e?.message).toContain("'dd_base' was dropped")
      await expectNoOrphan(d, 'dd_dep')
    })
  }

  test('createView racing dropTable(force) of its base never leaves an orphan view', async () => {
    db = await memoryDb()
    const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i, s: `v${i}` }))
    for (let i = 0; i < 12; i++) {
      const t = await db.createTable('dr_base', { id: 'int', s: 'string' }, { primaryKey: 'id' })
      await t.insert(rows)
      const [view, drop] = await Promise.all([
        outcome(db.createView('dr_view', 'dr_base')),
        outcome((async () => {
          // Spread over the view's creation: before its catalog write, around it, and during its first sync.
          for (let k = 0; k < i % 4; k++) await new Promise((r) => setImmediate(r))
          await db!.dropTable('dr_base', { force: true })
        })()),
      ])
      expect(drop).toBe('ok')
      expect(['ok', 'TABLE_NOT_FOUND']).toContain(view)
      expect(await db.listTables()).toEqual([])
      expect((await db.check()).problems).toEqual([])
    }
    await expectNoOrphan(db, 'dr_view')
  }, 60_000)
})
