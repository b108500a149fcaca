// Shared scenarios, run on every store by test/store/<store>.test.ts (moved here from test/catalog/rows-versions.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import type { MakeDb } from './make-db.ts'

export function rowsVersionsSuite(makeDb: MakeDb): void {
  let db: Tessera
  beforeAll(async () => { db = await makeDb() })
  afterAll(async () => { await db.close() })

  const err = (p: Promise<unknown>) => p.then(() => undefined, (e) => e)
  const rowsOf = async (t: { select: (...a: string[]) => { collect(): Promise<{ rows: readonly unknown[] }> } }, ...cols: string[]) => (await t.select(...cols).collect()).rows

  describe('insert validation', () => {
    test('bad rows are rejected with row and column named, nothing written', async () => {
      const t = await db.createTable('v1', { id: 'int', name: 'string', score: 'float?' }, { primaryKey: 'id' })
      let e = await err(t.insert([{ id: 1, name: 'a' }, { id: 2, name: 7 }]))
      expect(e.code).toBe('INVALID_ROW')
      expect(e.message).toContain('row 1')
      expect(e.message).toContain("column 'name'")
      expect(e.details).toEqual({ row: 1, column: 'name' })
      e = await err(t.insert([{ id: 1, name: 'a', nope: 1 }]))
      expect(e.message).toContain("unknown column 'nope'")
      e = await err(t.insert([{ name: 'a' }]))
      expect(e.message).toContain("row 0, column 'id': a value is required")
      e = await err(t.insert([{ id: 1.5, name: 'a' }]))
      expect(e.code).toBe('INVALID_ROW')
      e = await err(t.insert([{ id: 1, name: 'a' }, { id: 1, name: 'b' }]))
      expect(e.code).toBe('CONSTRAINT_VIOLATION')
      expect(e.message).toContain('rows 0 and 1')
      expect(await t.count()).toBe(0)
      expect(t.version).toBe(0)
      await t.insert([{ id: 1, name: 'a' }])
      e = await err(t.insert([{ id: 2, name: 'b' }, { id: 1, name: 'dup' }]))
      expect(e.code).toBe('CONSTRAINT_VIOLATION')
      expect(e.message).toContain('(id)=(1)')
      expect(await rowsOf(t, 'id', 'name')).toEqual([{ id: 1, name: 'a' }])
      expect(t.version).toBe(1)
    })

    test('large inserts are all or nothing across batches', async () => {
      const t = await db.createTable('v2', { id: 'int' }, { primaryKey: 'id' })
      const rows = Array.from({ length: 12000 }, (_, i) => ({ id: i }))
      rows[11000] = { id: 5 } // duplicate in the 3rd batch
      expect((await err(t.insert(rows))).code).toBe('CONSTRAINT_VIOLATION')
      expect(await t.count()).toBe(0)
      rows[11000] = { id: 11000 }
      const s = await t.insert(rows)
      expect(s.numInserted).toBe(12000)
      expect(await t.count()).toBe(12000)
    })
  })

  describe('update, delete, upsert', () => {
    test('update with where and expressions; delete with where', async () => {
      const t = await db.createTable('u1', { id: 'int', n: 'int', s: 'string?' }, { primaryKey: 'id' })
      await t.insert([1, 2, 3, 4].map((id) => ({ id, n: id * 10, s: `s${id}` })))
      let s = await t.update({ n: t.c.n.add(1), s: 'x' }, { where: t.c.id.ge(3) })
      expect(s.numUpdated).toBe(2)
      expect(await rowsOf(t, 'id', 'n', 's')).toEqual([
        { id: 1, n: 10, s: 's1' }, { id: 2, n: 20, s: 's2' }, { id: 3, n: 31, s: 'x' }, { id: 4, n: 41, s: 'x' },
      ])
      s = await t.update({ s: null })
      expect(s.numUpdated).toBe(4)
      expect((await t.where(t.c.s.eq(null)).count())).toBe(4)
      s = await t.delete({ where: t.c.n.gt(30) })
      expect(s.numDeleted).toBe(2)
      expect((await rowsOf(t, 'id')).map((r: any) => r.id)).toEqual([1, 2])
      // the query form
      await t.where(t.c.id.eq(1)).update({ n: 0 })
      await t.where(t.c.id.eq(2)).delete()
      expect(await rowsOf(t, 'id', 'n')).toEqual([{ id: 1, n: 0 }])
      expect((await err(t.update({ nope: 1 }))).code).toBe('INVALID_ARGUMENT')
      expect((await err(t.update({ n: 'str' }))).message).toContain("column 'n'")
      const before = t.version
      const none = await t.update({ n: 5 }, { where: t.c.id.eq(999) })
      expect(none.numUpdated).toBe(0)
      expect(t.version).toBe(before) // a change that changes nothing makes no version
    })

    test('batchUpdate by primary key with ifNotExists modes', async () => {
      const t = await db.createTable('u2', { id: 'int', a: 'string', b: 'int?' }, { primaryKey: 'id' })
      await t.insert([{ id: 1, a: 'one', b: 1 }, { id: 2, a: 'two', b: 2 }])
      expect((await err(t.batchUpdate([{ id: 3, a: 'x' }]))).code).toBe('NOT_FOUND')
      let s = await t.batchUpdate([{ id: 1, a: 'ONE' }, { id: 3, a: 'three' }], { ifNotExists: 'ignore' })
      expect(s.numUpdated).toBe(1)
      s = await t.upsert([{ id: 2, a: 'TWO', b: 20 }, { id: 3, a: 'three' }])
      expect(s.numUpdated).toBe(1)
      expect(s.numInserted).toBe(1)
      // An option upsert does not take is refused by name (it was ignored), and nothing is written.
      const refused = await err(t.upsert([{ id: 4, a: 'four' }], { onError: 'ignore' } as never))
      expect([refused.code, refused.message]).toEqual(['INVALID_ARGUMENT', expect.stringContaining("upsert: unknown option 'onError'")])
      expect(await rowsOf(t, 'id', 'a', 'b')).toEqual([
        { id: 1, a: 'ONE', b: 1 }, { id: 2, a: 'TWO', b: 20 }, { id: 3, a: 'three', b: null },
      ])
      expect((await err(t.batchUpdate([{ a: 'no key' }]))).message).toContain("column 'id'")
      const nokey = await db.createTable('u3', { x: 'int' })
      expect((await err(nokey.batchUpdate([{ x: 1 }]))).message).toContain('no primary key')
    })
  })

  describe('versions', () => {
    test('history, time travel, revert', async () => {
      const t = await db.createTable('h1', { id: 'int', v: 'string' }, { primaryKey: 'id' })
      await t.insert([{ id: 1, v: 'a' }, { id: 2, v: 'b' }]) // v1
      await t.update({ v: 'B' }, { where: t.c.id.eq(2) }) // v2
      await t.delete({ where: t.c.id.eq(1) }) // v3
      await t.insert([{ id: 3, v: 'c' }]) // v4
      const h = await t.history()
      expect(h.map((x) => [x.version, x.kind, x.inserted, x.updated, x.deleted])).toEqual([
        [4, 'insert', 1, 0, 0], [3, 'delete', 0, 0, 1], [2, 'update', 0, 1, 0], [1, 'insert', 2, 0, 0], [0, 'create', 0, 0, 0],
      ])
      expect(h[0]!.createdAt).toBeInstanceOf(Date)
      const at = async (v: number) => (await (await db.get(`h1:${v}`)).select('id', 'v').collect()).rows
      expect(await at(0)).toEqual([])
      expect(await at(1)).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }])
      expect(await at(2)).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'B' }])
      expect(await at(3)).toEqual([{ id: 2, v: 'B' }])
      expect(await at(4)).toEqual([{ id: 2, v: 'B' }, { id: 3, v: 'c' }])
      const old = await db.get('h1:2')
      expect(old.isReadOnly).toBe(true)
      expect((await err(old.insert([{ id: 9, v: 'x' }]))).code).toBe('READ_ONLY')
      expect((await err(db.get('h1:99'))).code).toBe('VERSION_NOT_FOUND')

      await t.revert() // undo v4
      expect(await rowsOf(t, 'id', 'v')).toEqual([{ id: 2, v: 'B' }])
      await t.revert() // undo v3 (delete)
      expect(await rowsOf(t, 'id', 'v')).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'B' }])
      await t.revert() // undo v2 (update)
      expect(await rowsOf(t, 'id', 'v')).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }])
      expect(t.version).toBe(1)
      // the pk index still works after reverts
      expect((await err(t.insert([{ id: 2, v: 'dup' }]))).code).toBe('CONSTRAINT_VIOLATION')
      await t.insert([{ id: 5, v: 'e' }])
      expect(t.version).toBe(2)
      await t.revert()
      await t.revert()
      expect((await err(t.revert())).message).toContain('version 0')
    })

    test('schema evolution: add, drop, rename, with versions and revert', async () => {
      const t = await db.createTable('s1', { id: 'int', a: 'string' })
      await t.insert([{ id: 1, a: 'x' }])
      expect((await err(t.addColumn('b', 'int'))).code).toBe('INVALID_TYPE') // not nullable on a non-empty table
      await t.addColumn('b', 'int?') // v2
      expect((await err(t.addColumn('b', 'int?'))).code).toBe('COLUMN_ALREADY_EXISTS')
      expect((await t.addColumn('b', 'int?', { ifExists: 'ignore' })).version).toBe(2)
      await t.update({ b: 7 }) // v3
      await t.renameColumn('a', 'name') // v4
      expect(t.schema()).toEqual({ id: 'int', name: 'string', b: 'int?' })
      await t.dropColumn('b') // v5
      expect(t.schema()).toEqual({ id: 'int', name: 'string' })
      expect((await err(t.dropColumn('b'))).code).toBe('COLUMN_NOT_FOUND')
      await t.dropColumn('b', { ifNotExists: 'ignore' })
      // time travel sees the schema of its version
      expect((await (await db.get('s1:3')).collect()).rows).toEqual([{ id: 1, a: 'x', b: 7 }])
      expect((await (await db.get('s1:1')).collect()).rows).toEqual([{ id: 1, a: 'x' }])
      await t.revert() // drop undone
      expect((await t.collect()).rows).toEqual([{ id: 1, name: 'x', b: 7 }])
      await t.revert() // rename undone
      await t.revert() // update undone
      await t.revert() // add undone
      expect((await t.collect()).rows).toEqual([{ id: 1, a: 'x' }])
      await t.addColumn('b', 'string?') // the same name, a new column
      expect((await t.collect()).rows).toEqual([{ id: 1, a: 'x', b: null }])
      // replace
      await t.addColumn('b', 'float?', { ifExists: 'replace' })
      expect(t.schema().b).toBe('float?')
    })
  })

  describe('update statuses', () => {
    test('updatedCols names the set columns and the computed columns recomputed from them', async () => {
      const t = await db.createTable('st1', { id: 'int', a: 'string', b: 'string' }, { primaryKey: 'id' })
      await t.insert([{ id: 1, a: 'x', b: 'y' }])
      await t.addComputedColumn('ua', t.c.a.upper())
      await t.addComputedColumn('ub', t.c.b.upper())
      let s = await t.update({ a: 'z' })
      expect(s.updatedCols.toSorted()).toEqual(['a', 'ua'])
      expect(s.numComputedValues).toBe(1)
      s = await t.update({ b: 'w' }, { cascade: false })
      expect(s.updatedCols).toEqual(['b'])
      expect((await t.select('ub').collect()).rows).toEqual([{ ub: 'Y' }]) // not recomputed
      s = await t.batchUpdate([{ id: 1, b: 'q' }])
      expect(s.updatedCols.toSorted()).toEqual(['b', 'ub'])
      s = await t.recomputeColumns('ub')
      expect(s.updatedCols).toEqual(['ub'])
      s = await t.insert([{ id: 2, a: 'n', b: 'm' }])
      expect(s.updatedCols).toEqual([])
      expect(s.numComputedValues).toBe(2)
    })
  })

  describe('all-or-nothing schema changes and failing filters', () => {
    test('a replace that fails leaves the table as it was; one that succeeds is one version', async () => {
      const t = await db.createTable('rep1', { id: 'int', price: 'float', s: 'string' })
      await t.insert([{ id: 1, price: 1.5, s: 'abc' }])
      await t.addComputedColumn('u', t.c.s.upper())
      expect((await err(t.addColumn('price', 'int', { ifExists: 'replace' }))).code).toBe('INVALID_TYPE')
      expect((await err(t.addComputedColumn('u', t.c.s.astype('int'), { ifExists: 'replace' }))).code).toBe('COMPUTATION_FAILED')
      expect(t.schema()).toEqual({ id: 'int', price: 'float', s: 'string', u: 'string?' })
      expect(t.version).toBe(2)
      await t.addColumn('s', 'string?', { ifExists: 'replace_force' })
      expect(t.version).toBe(3)
      await t.revert()
      expect((await t.collect()).rows).toEqual([{ id: 1, price: 1.5, s: 'abc', u: 'ABC' }])
    })

    test('a filter failing on a row at run time: update and delete are INVALID_EXPRESSION, nothing written', async () => {
      const t = await db.createTable('badf1', { id: 'int', s: 'string' })
      await t.insert([{ id: 1, s: 'abc' }])
      const bad = t.c.s.astype('int').gt(0)
      for (const e of [await err(t.update({ s: 'x' }, { where: bad })), await err(t.delete({ where: bad }))]) {
        expect(e.code).toBe('INVALID_EXPRESSION')
        expect(e.message).toContain('cannot cast "abc" to int')
      }
      expect((await t.collect()).rows).toEqual([{ id: 1, s: 'abc' }])
    })

    test('a SQL-computed column failing on new values: batchUpdate reports what update reports, nothing written', async () => {
      const t = await db.createTable('badc1', { id: 'int', s: 'string' }, { primaryKey: 'id' })
      await t.insert([{ id: 1, s: '5' }])
      await t.addComputedColumn('n', t.c.s.astype('int'))
      const update = await err(t.update({ s: 'abc' }))
      const batch = await err(t.batchUpdate([{ id: 1, s: 'abc' }]))
      expect([update.code, batch.code]).toEqual(['COMPUTATION_FAILED', 'COMPUTATION_FAILED'])
      expect(batch.message).toBe(update.message)
      expect(batch.details).toEqual({ table: 'badc1', column: 'n', expression: 'astype(s, type="int")' })
      expect((await t.collect()).rows).toEqual([{ id: 1, s: '5', n: 5 }])
    })
  })
}
