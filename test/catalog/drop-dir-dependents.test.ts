import { expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { vectorIndexesOf } from '../../src/index/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// A force drop of a dir drops its tables as dropTable(force) does: with their views and snapshots wherever those
// are (a view outside the dir was left over a table that no longer existed, which check() reported), and with their
// native indexes (their files stayed in <home>/indexes).

async function withOutsideDependents(db: Tessera) {
  await db.createDir('d')
  const r = await db.createTable('d/r', { id: 'int', tag: 'string' })
  await r.insert(Array.from({ length: 50 }, (_, id) => ({ id, tag: id % 2 ? 'odd' : 'even' })))
  await db.createView('d/inner', r, { where: r.c.id.lt(10) })
  await db.createView('outer_view', r, { where: r.c.tag.eq('odd') })
  await db.createSnapshot('outer_snap', r)
  await db.createView('view_of_view', await db.getTable('outer_view'))
  await db.createTable('kept', { id: 'int' })
}

for (const how of ['dropDir force', "createDir ifExists 'replace_force'"] as const) {
  test(`${how}: views and snapshots outside the dir go with its tables; check() finds nothing`, async () => {
    const db = await memoryDb()
    try {
      await withOutsideDependents(db)
      if (how === 'dropDir force') await db.dropDir('d', { force: true })
      else await db.createDir('d', { ifExists: 'replace_force' })
      expect((await db.listTables('', { recursive: true })).sort()).toEqual(['kept'])
      expect((await db.check()).problems).toEqual([])
      for (const path of ['outer_view', 'outer_snap', 'view_of_view']) {
        expect(((await db.getTable(path).catch((e: unknown) => e)) as { code?: string }).code).toBe('TABLE_NOT_FOUND')
      }
      // The names are free again.
      await db.createTable('outer_view', { id: 'int' })
    } finally {
      await db.close()
    }
  })
}

test('a force drop of a dir removes its tables\' native index files', async () => {
  const home = tempDir()
  let db = await Tessera.open({ home })
  await db.createDir('v')
  const t = await db.createTable('v/pts', { id: 'int', emb: 'array<float32>[3]' })
  await t.insert(Array.from({ length: 200 }, (_, id) => ({ id, emb: [Math.cos(id), Math.sin(id), id / 200] })))
  await t.addEmbeddingIndex('emb', { name: 'e' })
  await Promise.all(vectorIndexesOf(db.driver)!.entries(t.id).map((e) => e.settled()))
  await db.close()
  const dir = join(home, 'indexes')
  expect(readdirSync(dir).length).toBeGreaterThan(0)
  db = await Tessera.open({ home })
  try {
    await db.dropDir('v', { force: true })
    const deadline = Date.now() + 10_000
    while (readdirSync(dir).length > 0 && Date.now() < deadline) await Bun.sleep(50)
    expect(readdirSync(dir)).toEqual([])
  } finally {
    await db.close()
  }
  expect(existsSync(dir)).toBe(true)
})
