// Shared scenarios, run on every store by test/store/<store>.test.ts (moved here from test/catalog/views.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import type { MakeDb } from './make-db.ts'

export function viewsSuite(makeDb: MakeDb): void {
  let db: Tessera
  beforeAll(async () => { db = await makeDb() })
  afterAll(async () => { await db.close() })

  const err = (p: Promise<unknown>) => p.then(() => undefined, (e) => e)

  describe('views', () => {
    test('filter view with its own computed column follows inserts, updates, deletes and reverts', async () => {
      const base = await db.createTable('items', { id: 'int', name: 'string', price: 'float' }, { primaryKey: 'id' })
      await base.insert([{ id: 1, name: 'apple', price: 1.5 }, { id: 2, name: 'melon', price: 4 }, { id: 3, name: 'kiwi', price: 0.5 }])
      const cheap = await db.createView('cheap', base, { where: base.c.price.lt(2) })
      await cheap.addComputedColumn('label', cheap.c.name.upper())
      const rows = async () => (await cheap.select('id', 'name', 'label').orderBy('id').collect()).rows
      expect(await rows()).toEqual([{ id: 1, name: 'apple', label: 'APPLE' }, { id: 3, name: 'kiwi', label: 'KIWI' }])

      await base.insert([{ id: 4, name: 'fig', price: 1 }, { id: 5, name: 'mango', price: 3 }])
      expect((await rows()).map((r) => r.id)).toEqual([1, 3, 4])
      await base.update({ price: 9 }, { where: base.c.id.eq(1) }) // leaves the view
      await base.update({ price: 1 }, { where: base.c.id.eq(2) }) // enters it
      await base.update({ name: 'kiwano' }, { where: base.c.id.eq(3) }) // changes inside it
      expect(await rows()).toEqual([{ id: 2, name: 'melon', label: 'MELON' }, { id: 3, name: 'kiwano', label: 'KIWANO' }, { id: 4, name: 'fig', label: 'FIG' }])
      await base.delete({ where: base.c.id.eq(4) })
      expect((await rows()).map((r) => r.id)).toEqual([2, 3])

      await base.revert() // the delete
      expect((await rows()).map((r) => r.id)).toEqual([2, 3, 4])
      await base.revert() // the rename
      expect((await rows()).find((r) => r.id === 3)!.label).toBe('KIWI')

      expect((await err(cheap.insert([{ id: 9 }]))).code).toBe('READ_ONLY')
      expect((await err(db.dropTable('items'))).code).toBe('HAS_DEPENDENTS')
      // views are tables for queries: history, time travel
      expect((await cheap.history())[0]!.kind).toBe('sync')
      await db.dropTable('items', { force: true })
      expect((await err(db.getTable('cheap'))).code).toBe('TABLE_NOT_FOUND')
    })

    test('a view of a view', async () => {
      const base = await db.createTable('nums', { n: 'int' })
      await base.insert([1, 2, 3, 4, 5, 6].map((n) => ({ n })))
      const even = await db.createView('even', base, { where: base.c.n.mod(2).eq(0) })
      const big = await db.createView('big_even', even, { where: even.c.n.gt(2) })
      expect((await big.select('n').collect()).rows).toEqual([{ n: 4 }, { n: 6 }])
      await base.insert([{ n: 8 }, { n: 9 }])
      expect((await big.select('n').collect()).rows).toEqual([{ n: 4 }, { n: 6 }, { n: 8 }])
    })
  })

  describe('snapshots', () => {
    test('pin a version, are read-only, and block reverting past them', async () => {
      const t = await db.createTable('snapbase', { id: 'int', v: 'string' })
      await t.insert([{ id: 1, v: 'a' }])
      const snap = await db.createSnapshot('snap1', t)
      await t.update({ v: 'b' })
      await t.insert([{ id: 2, v: 'c' }])
      expect((await snap.select('id', 'v').collect()).rows).toEqual([{ id: 1, v: 'a' }])
      expect(snap.isReadOnly).toBe(true)
      expect((await err(snap.insert([{ id: 3, v: 'x' }]))).code).toBe('READ_ONLY')
      await t.revert()
      await t.revert()
      expect((await err(t.revert())).code).toBe('HAS_DEPENDENTS') // version 1 is pinned by snap1
      const old = await db.createSnapshot('snap0', 'snapbase:0')
      expect(await old.count()).toBe(0)
      await db.dropTable('snap1')
      await t.revert()
      expect(await t.count()).toBe(0)
    })
  })

  describe('iterator views', () => {
    test('one base row → many rows with pos; new base rows expand only themselves; deletes remove their parts', async () => {
      const docs = await db.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
      await docs.insert([{ id: 1, text: 'One. Two. Three.' }, { id: 2, text: 'Alpha beta.' }])
      const chunks = await db.createView('chunks', docs, { iterator: { name: 'string_splitter', input: 'text', args: { separators: 'sentence' } } })
      expect(Object.keys(chunks.schema())).toEqual(['id', 'base_text', 'pos', 'text'])
      await chunks.addComputedColumn('n', chunks.c.text.len())
      const rows = async () => (await chunks.select('id', 'pos', 'text').orderBy('id').orderBy('pos').collect()).rows
      expect(await rows()).toEqual([
        { id: 1, pos: 0, text: 'One.' }, { id: 1, pos: 1, text: 'Two.' }, { id: 1, pos: 2, text: 'Three.' }, { id: 2, pos: 0, text: 'Alpha beta.' },
      ])
      const before = (await chunks.history()).length
      await docs.insert([{ id: 3, text: 'New one. Here.' }])
      expect((await chunks.where(chunks.c.id.eq(3)).select('pos', 'text', 'n').collect()).rows).toEqual([{ pos: 0, text: 'New one.', n: 8 }, { pos: 1, text: 'Here.', n: 5 }])
      const sync = (await chunks.history())[0]!
      expect(sync.inserted).toBe(2) // only the new document was split
      expect((await chunks.history()).length).toBe(before + 1)
      await docs.delete({ where: docs.c.id.eq(1) })
      expect((await rows()).map((r) => r.id)).toEqual([2, 3, 3])
      await docs.update({ text: 'Changed. Text. Now. Four.' }, { where: docs.c.id.eq(2) })
      expect((await chunks.where(chunks.c.id.eq(2)).count())).toBe(4)
    })
  })

  describe('a view that cannot be made', () => {
    test('a filter failing on a base row: INVALID_EXPRESSION, and no view is left behind', async () => {
      const t = await db.createTable('vbad', { id: 'int', s: 'string' })
      await t.insert([{ id: 1, s: 'abc' }])
      const e = await err(db.createView('vbad_v', t, { where: t.c.s.astype('int').gt(0) }))
      expect(e.code).toBe('INVALID_EXPRESSION')
      expect((await err(db.get('vbad_v'))).code).toBe('TABLE_NOT_FOUND')
      expect(await (await db.createView('vbad_v', t, { where: t.c.id.gt(0) })).count()).toBe(1)
    })

    test('a replace whose first sync fails leaves the old view as it was: rows, versions, its own views', async () => {
      const t = await db.createTable('vrep', { id: 'int', s: 'string' })
      await t.insert([{ id: 1, s: 'abc' }, { id: 2, s: '5' }])
      const old = await db.createView('vrep_v', t, { where: t.c.id.gt(0) })
      await old.addComputedColumn('up', old.c.s.upper())
      await db.createView('vrep_vv', old, { where: old.c.id.eq(2) })
      for (const ifExists of ['replace', 'replace_force'] as const) {
        const e = await err(db.createView('vrep_v', t, { where: t.c.s.astype('int').gt(0), ifExists }))
        // 'replace' is refused before any work (the view has a dependent), as it was; 'replace_force' fails its sync.
        expect(e.code).toBe(ifExists === 'replace' ? 'HAS_DEPENDENTS' : 'INVALID_EXPRESSION')
        expect(e.message).not.toContain('~replacing~')
        const v = await db.get('vrep_v')
        expect(v.version).toBe(2)
        expect((await v.select('id', 'up').orderBy('id').collect()).rows).toEqual([{ id: 1, up: 'ABC' }, { id: 2, up: '5' }])
        expect(await (await db.get('vrep_vv')).count()).toBe(1)
        expect((await db.listTables('')).filter((p) => p.startsWith('vrep'))).toEqual(['vrep', 'vrep_v', 'vrep_vv'])
      }
      // A replace that succeeds is what it was: the old view and (with force) its views are gone.
      const v = await db.createView('vrep_v', t, { where: t.c.id.eq(1), ifExists: 'replace_force' })
      expect(await v.count()).toBe(1)
      expect(v.version).toBe(1)
      expect((await err(db.get('vrep_vv'))).code).toBe('TABLE_NOT_FOUND')
      await t.insert([{ id: 1, s: 'again' }])
      expect(await v.count()).toBe(2)
      expect((await db.check()).problems).toEqual([])
    })
  })
}
