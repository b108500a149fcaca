import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A revert racing a drop of the same table: the revert happened (it resolves) or found the table gone
// (TABLE_NOT_FOUND); never the store's 'relation "tessera_data.tN" does not exist' from the cleanup that a staged
// revert runs after its final step, which stops when the table is dropped between two of its steps.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error & { code?: string }) => e.code ?? `${e.name}: ${e.message}`)

describe('a revert racing a drop of its table', () => {
  test('answers ok or TABLE_NOT_FOUND, and the drop goes through', async () => {
    db = await memoryDb()
    // Enough rows that the revert is staged: its final step pops the version, its rows go in steps after it.
    const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i, s: `v${i}` }))
    for (let i = 0; i < 15; i++) {
      const t = await db.createTable('rd', { id: 'int', s: 'string' })
      await t.insert(rows)
      const [revert, drop] = await Promise.all([
        outcome(t.revert()),
        outcome((async () => {
          for (let k = 0; k < i % 5; k++) await new Promise((r) => setImmediate(r))
          await db!.dropTable('rd', { ifNotExists: 'ignore' })
        })()),
      ])
      expect(drop).toBe('ok')
      expect(['ok', 'TABLE_NOT_FOUND']).toContain(revert)
      expect(await db.listTables()).toEqual([])
    }
    expect((await db.check()).problems).toEqual([])
  }, 60_000)
})
