import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// Compaction deletes a table's unseen row versions in batches, each its own transaction, then vacuums it: a drop of
// the table between two of those has left nothing to compact, and the compaction goes on (it failed with the
// store's 'relation "tessera_data.tN" does not exist').

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error & { code?: string }) => e.code ?? `${e.name}: ${e.message}`)

describe('compaction racing a drop of a table it compacts', () => {
  test('compact() completes and skips the dropped table', async () => {
    db = await memoryDb()
    const rows = (tag: string) => Array.from({ length: 2000 }, (_, i) => ({ id: i, s: `${tag}${i}` }))
    for (let i = 0; i < 20; i++) {
      const t = await db.createTable('cd', { id: 'int', s: 'string' })
      // 2,000 row versions that only version 1 sees: with keepVersions 1 they go, 100 a batch.
      await t.insert(rows('a'))
      await t.delete()
      await t.insert(rows('b'))
      const [compact, drop] = await Promise.all([
        outcome(db.compact({ keepVersions: 1, batchSize: 100, media: false })),
        outcome((async () => {
          // Spread over the compaction: its plan, its delete batches, its vacuum.
          await new Promise((r) => setTimeout(r, (i * 3) % 60))
          await db!.dropTable('cd')
        })()),
      ])
      expect(drop).toBe('ok')
      expect(compact).toBe('ok')
    }
    expect((await db.check()).problems).toEqual([])
  }, 60_000)
})
