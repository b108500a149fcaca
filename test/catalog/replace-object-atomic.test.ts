import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A replace of a table, view or snapshot (ifExists: 'replace' / 'replace_force') drops the old object only in the
// transaction that gives the new one its path (src/catalog/replace.ts): a replace that fails leaves the old object as
// it was. Before, the old object was dropped first, and lost when the creation failed after that.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const fail = <T>(p: Promise<T>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string })

async function withView(): Promise<{ db: Tessera; rows: () => Promise<readonly unknown[]> }> {
  db = await memoryDb()
  const t = await db.createTable('t', { id: 'int', s: 'string' })
  await t.insert(Array.from({ length: 700 }, (_, i) => ({ id: i, s: i === 650 ? 'abc' : String(i) })))
  await db.createView('v', t, { where: t.c.id.lt(3) })
  const d = db
  return { db: d, rows: async () => (await (await d.get('v')).select('id').orderBy('id').collect()).rows }
}

describe('a view replace that fails', () => {
  test('a filter failing on a row in a staged first sync: the old view is kept, nothing else is left', async () => {
    const { db, rows } = await withView()
    const t = await db.get('t')
    const e = await fail(db.createView('v', t, { where: t.c.s.astype('int').ge(0), ifExists: 'replace' }))
    expect(e?.code).toBe('INVALID_EXPRESSION')
    expect(await rows()).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }])
    expect(await db.listTables('', { recursive: true })).toEqual(['t', 'v'])
    expect((await db.check()).problems).toEqual([])
    // The base goes on, and the old view follows it.
    await t.insert([{ id: -1, s: 'x' }])
    expect((await rows())[0]).toEqual({ id: -1 })
  })

  test('an iterator over a file gone since it was inserted: the old view is kept', async () => {
    db = await memoryDb()
    const dir = mkdtempSync(join(tmpdir(), 'replace-atomic-'))
    const file = join(dir, 'gone.txt')
    writeFileSync(file, 'One sentence. Another one.')
    const docs = await db.createTable('docs', { id: 'int', doc: 'document' })
    await docs.insert([{ id: 1, doc: file }])
    await db.createView('chunks', docs, { where: docs.c.id.gt(5) })
    rmSync(dir, { recursive: true })
    const e = await fail(db.createView('chunks', docs, { iterator: { name: 'document_splitter', input: 'doc' }, ifExists: 'replace' }))
    expect(e).toBeDefined()
    expect(e?.message).not.toContain('~replacing~')
    const kept = await db.get('chunks')
    expect(Object.keys(kept.schema())).toEqual(['id', 'doc'])
    expect(await kept.count()).toBe(0)
  })

  test('a view over the object it replaces is refused before anything is dropped', async () => {
    const { db, rows } = await withView()
    const v = await db.get('v')
    const e = await fail(db.createView('v', v, { where: v.c.id.gt(0), ifExists: 'replace_force' }))
    expect(e?.code).toBe('INVALID_ARGUMENT')
    expect(await rows()).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }])
  })
})

describe('a view replace that succeeds', () => {
  test('takes the path with its first sync; dependents need replace_force, as before', async () => {
    const { db, rows } = await withView()
    const t = await db.get('t')
    await db.createSnapshot('snap', 'v')
    expect((await fail(db.createView('v', t, { where: t.c.id.lt(2), ifExists: 'replace' })))?.code).toBe('HAS_DEPENDENTS')
    expect(await rows()).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }])
    const v = await db.createView('v', t, { where: t.c.id.lt(2), ifExists: 'replace_force' })
    expect(v.path).toBe('v')
    expect(await rows()).toEqual([{ id: 0 }, { id: 1 }])
    expect(await db.listTables('')).toEqual(['t', 'v'])
    await t.insert([{ id: -5, s: 'y' }])
    expect(await v.count()).toBe(3)
  })
})

describe('table and snapshot replaces', () => {
  test('a snapshot replacing its own base is refused, and the base is kept (it was dropped, then not found)', async () => {
    db = await memoryDb()
    const t = await db.createTable('t', { id: 'int' })
    await t.insert([{ id: 1 }])
    const e = await fail(db.createSnapshot('t', t, { ifExists: 'replace' }))
    expect(e?.code).toBe('INVALID_ARGUMENT')
    expect(await (await db.get('t')).count()).toBe(1)
  })

  test('a table replace is one transaction: refused with dependents, forced with them, the new table empty', async () => {
    db = await memoryDb()
    const t = await db.createTable('t', { id: 'int' })
    await t.insert([{ id: 1 }])
    await db.createView('v', t)
    const refused = await fail(db.createTable('t', { a: 'string' }, { ifExists: 'replace' }))
    expect(refused?.code).toBe('HAS_DEPENDENTS')
    // The remedy is this call's option: it said "pass force: true", which createTable refuses as an unknown option.
    expect(refused?.message).toBe("'t' has dependents 'v'; drop them first or pass ifExists: 'replace_force' to drop them with it")
    expect(await (await db.get('t')).count()).toBe(1)
    const n = await db.createTable('t', { a: 'string' }, { ifExists: 'replace_force' })
    expect(Object.keys(n.schema())).toEqual(['a'])
    expect(await n.count()).toBe(0)
    expect(await db.listTables('')).toEqual(['t'])
  })
})

describe('a replacing view left by a process killed mid-sync', () => {
  test('is dropped when the data dir is opened again; the old object and the base stay', async () => {
    const home = mkdtempSync(join(tmpdir(), 'replace-leftover-'))
    try {
      db = await Tessera.open({ home })
      const t = await db.createTable('t', { id: 'int' })
      await t.insert([{ id: 1 }])
      await db.createView('v', t)
      const left = await db.createView('w', t)
      // What a kill between the new view's creation and its taking of the path leaves: a view under its temporary path.
      await db.driver.query(`update tessera.tables set path = 'v~replacing~x1' where id = $1`, [left.id])
      await db.close()
      db = await Tessera.open({ home })
      expect(await db.listTables('')).toEqual(['t', 'v'])
      expect((await db.driver.query(`select path from tessera.tables order by path`)).rows).toEqual([{ path: 't' }, { path: 'v' }])
      expect((await db.check()).problems).toEqual([])
      expect(await (await db.get('v')).count()).toBe(1)
    } finally {
      await db?.close()
      db = undefined
      rmSync(home, { recursive: true, force: true })
    }
  })
})
