// Regression tests for the defects and silently ignored options of issue 20, run on every store.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import type { MakeDb } from './make-db.ts'
import { runJsonQuery } from './make-db.ts'

export function lifecycleDefectsSuite(makeDb: MakeDb): void {
  let db: Tessera
  beforeAll(async () => { db = await makeDb() })
  afterAll(async () => { await db.close() })
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e) => e)

  describe('primary keys are immutable', () => {
    test('updating a key column is refused, naming the column; nothing changes', async () => {
      const t = await db.createTable('pk_imm', { id: 'int', name: 'string' }, { primaryKey: 'id' })
      await t.insert([{ id: 1, name: 'a' }, { id: 2, name: 'b' }])
      const e = await err(t.update({ id: 3 }, { where: t.c.id.eq(1) }))
      expect(e.code).toBe('INVALID_ARGUMENT')
      expect(e.message).toContain("'id' is part of the primary key of 'pk_imm'")
      expect(e.details).toEqual({ column: 'id' })
      expect(await err(t.update({ id: t.c.id.add(10) }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect(t.version).toBe(1)
      await t.update({ name: 'z' }, { where: t.c.id.eq(1) })
      await t.batchUpdate([{ id: 2, name: 'y' }])
      expect((await t.orderBy(t.c.id).select('id', 'name').collect()).rows).toEqual([{ id: 1, name: 'z' }, { id: 2, name: 'y' }])
    })
  })

  describe('insert aborts by default, whatever onError a column was added with', () => {
    test('a column added with onError: ignore stores errors for its backfill; later inserts abort unless they say ignore', async () => {
      const { udf } = await import('../../src/index.ts')
      const fails = udf({ name: 'fails_on_x_i20', returns: 'string', fn: (s: string) => { if (s === 'x') throw new Error('bad x'); return s.toUpperCase() } })
      const t = await db.createTable('onerr_default', { id: 'int', s: 'string' })
      await t.insert([{ id: 1, s: 'a' }, { id: 2, s: 'x' }])
      const added = await t.addComputedColumn('up', fails(t.c.s), { onError: 'ignore' })
      expect(added.numExcs).toBe(1)
      const e = await err(t.insert([{ id: 3, s: 'x' }]))
      expect(e.code).toBe('COMPUTATION_FAILED')
      expect(e.message).toContain("computed column 'up'")
      expect(await t.count()).toBe(2)
      const ok = await t.insert([{ id: 3, s: 'x' }], { onError: 'ignore' })
      expect(ok.numExcs).toBe(1)
      expect((await t.where(t.c.id.eq(3)).select({ up: t.c.up, et: t.c.up.errortype }).collect()).rows).toEqual([{ up: null, et: 'Error' }])
      await t.insert([{ id: 4, s: 'b' }])
      expect(await t.count()).toBe(4)
    })
  })

  describe('messages say what is wrong and what works', () => {
    test('NaN into a float column is named as NaN', async () => {
      const t = await db.createTable('nan_float', { id: 'int', x: 'float' })
      const e = await err(t.insert([{ id: 1, x: Number.NaN }]))
      expect(e.code).toBe('INVALID_ROW')
      expect(e.message).toContain("row 0, column 'x': NaN is not a storable number")
      expect(e.message).not.toContain('expected a number, got number')
      await t.insert([{ id: 1, x: 1.5 }, { id: 2, x: 2n }])
      expect(await t.count()).toBe(2)
    })

    test('createTable in a missing dir suggests createDir with parents: true (createTable has no such option)', async () => {
      const e = await err(db.createTable('no_such_dir/sub/t', { id: 'int' }))
      expect(e.code).toBe('DIR_NOT_FOUND')
      expect(e.message).toContain("createDir('no_such_dir/sub', { parents: true })")
      await db.createDir('no_such_dir/sub', { parents: true })
      await db.createTable('no_such_dir/sub/t', { id: 'int' })
      expect(await err(db.createDir('other_missing/sub'))).toMatchObject({ message: expect.stringContaining('pass parents: true') })
    })
  })

  describe('views over queries', () => {
    test('a view over t.where(...) follows the filter; select(), sample() and a sample option are refused by name', async () => {
      const t = await db.createTable('vq_base', { id: 'int', name: 'string' })
      await t.insert([{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }])
      const v = await db.createView('vq_where', t.where(t.c.id.gt(1)), { where: t.c.id.lt(3) })
      expect((await v.select('id').collect()).rows).toEqual([{ id: 2 }])
      await t.insert([{ id: 0, name: 'z' }, { id: 2, name: 'bb' }])
      expect((await v.orderBy(v.c.name).select('id', 'name').collect()).rows).toEqual([{ id: 2, name: 'b' }, { id: 2, name: 'bb' }])
      let e = await err(db.createView('vq_sel', t.select({ id: t.c.id })))
      expect(e.code).toBe('INVALID_ARGUMENT')
      expect(e.message).toContain('a view over a query can only filter it with where(); this query also has select()')
      e = await err(db.createView('vq_sample', t.sample({ fraction: 0.5 })))
      expect(e.message).toContain('sample()')
      e = await err(db.createView('vq_opt', t, { sample: { n: 1 } } as never))
      expect(e.message).toContain("createView: unknown option 'sample'")
      e = await err(db.createView('vq_order', t.where(t.c.id.gt(1)).orderBy(t.c.id)))
      expect(e.message).toContain('orderBy()')
      for (const p of ['vq_sel', 'vq_sample', 'vq_opt', 'vq_order']) expect(await db.getTable(p).then(() => true, () => false)).toBe(false)
    })
  })

  describe('joins: right, full and cross work in the library and the JSON API alike', () => {
    test('each join kind returns what SQL says, at the table versions read; unknown kinds are refused', async () => {
      const a = await db.createTable('j_a', { id: 'int', x: 'string' })
      const b = await db.createTable('j_b', { id: 'int', y: 'string' })
      await a.insert([{ id: 1, x: 'a1' }, { id: 2, x: 'a2' }])
      await b.insert([{ id: 2, y: 'b2' }, { id: 3, y: 'b3' }])
      // an old row version on each side must not show up in any join
      await a.update({ x: 'a1!' }, { where: a.c.id.eq(1) })
      await b.update({ y: 'b3!' }, { where: b.c.id.eq(3) })
      const sel = (q: ReturnType<typeof a.join>) => q.select({ ax: a.c.x, by: b.c.y })
      const rows = async (q: ReturnType<typeof a.join>) => {
        const lib = (await sel(q).collect()).rows
        const json = (await runJsonQuery(db, JSON.parse(JSON.stringify(sel(q).toJSON())))).rows
        expect(json).toEqual(lib)
        return [...lib].sort((p, q2) => JSON.stringify(p).localeCompare(JSON.stringify(q2)))
      }
      const on = a.c.id.eq(b.c.id)
      expect(await rows(a.join(b, { on }))).toEqual([{ ax: 'a2', by: 'b2' }])
      expect(await rows(a.join(b, { on, how: 'left' }))).toEqual([{ ax: 'a1!', by: null }, { ax: 'a2', by: 'b2' }])
      expect(await rows(a.join(b, { on, how: 'right' }))).toEqual([{ ax: 'a2', by: 'b2' }, { ax: null, by: 'b3!' }])
      expect(await rows(a.join(b, { on, how: 'full' }))).toEqual([{ ax: 'a1!', by: null }, { ax: 'a2', by: 'b2' }, { ax: null, by: 'b3!' }])
      expect(await rows(a.join(b, { how: 'cross' }))).toEqual([{ ax: 'a1!', by: 'b2' }, { ax: 'a1!', by: 'b3!' }, { ax: 'a2', by: 'b2' }, { ax: 'a2', by: 'b3!' }])
      // a where over a full join filters the joined rows; time travel reads each side at its version
      expect(await rows(a.join(b, { on, how: 'full' }).where(b.c.y.isNull()))).toEqual([{ ax: 'a1!', by: null }])
      const a1 = await db.get('j_a:1')
      const old = (await a1.join(b, { on: a1.c.id.eq(b.c.id), how: 'full' }).select({ ax: a1.c.x, by: b.c.y }).collect()).rows
      expect(old.map((r) => r.ax).sort()).toEqual(['a1', 'a2', null])
      expect(await a.join(b, { on, how: 'right' }).count()).toBe(2)

      expect(await err(Promise.resolve().then(() => a.join(b, { on, how: 'outer' as never })))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining("join how must be one of 'inner', 'left', 'right', 'full', 'cross'") })
      expect(await err(Promise.resolve().then(() => a.join(b, { on, how: 'cross' })))).toMatchObject({ message: expect.stringContaining('a cross join pairs every row with every row and takes no on') })
      expect(await err(Promise.resolve().then(() => a.join(b, { how: 'full' })))).toMatchObject({ message: expect.stringContaining('a full join needs on') })
      expect(await err(runJsonQuery(db, { table: 'j_a', joins: [{ table: 'j_b', how: 'outer', on: { lit: true } }] }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect(await err(runJsonQuery(db, { table: 'j_a', joins: [{ table: 'j_b', how: 'cross', on: { lit: true } }] }))).toMatchObject({ message: expect.stringContaining('joins[0].on: a cross join takes no on') })
      expect(await err(runJsonQuery(db, { table: 'j_a', joins: [{ table: 'j_b', how: 'right' }] }))).toMatchObject({ message: expect.stringContaining('joins[0].on: a right join needs on') })
    })
  })

  describe('stored: false computed columns are computed on read', () => {
    test('nothing is stored or backfilled; reads, filters, sorts, joins and dependent columns see the current value', async () => {
      const { udf } = await import('../../src/index.ts')
      const t = await db.createTable('unst', { id: 'int', s: 'string' }, { primaryKey: 'id' })
      await t.insert([{ id: 1, s: 'b' }, { id: 2, s: 'a' }])
      let calls = 0
      const shout = udf({ name: 'unst_shout_i20', returns: 'string', fn: (x: string) => (calls++, `${x}!`) })
      const st = await t.addComputedColumn('up', t.c.s.upper(), { stored: false })
      expect(st.numComputedValues).toBe(0)
      await t.addComputedColumn('loud', shout(t.c.up), { stored: false })
      expect(calls).toBe(0)
      expect(t.columns().find((c) => c.name === 'up')).toMatchObject({ computedWith: expect.stringContaining('upper') })
      expect((await t.orderBy(t.c.up).select('id', 'up', 'loud').collect()).rows).toEqual([{ id: 2, up: 'A', loud: 'A!' }, { id: 1, up: 'B', loud: 'B!' }])
      expect(calls).toBe(2)
      expect((await t.where(t.c.up.eq('B')).select('id').collect()).rows).toEqual([{ id: 1 }])
      expect((await t.orderBy(t.c.id).collect()).rows).toEqual([{ id: 1, s: 'b', up: 'B', loud: 'B!' }, { id: 2, s: 'a', up: 'A', loud: 'A!' }])
      // inputs change: the next read sees it, with no recompute
      await t.update({ s: 'c' }, { where: t.c.id.eq(1) })
      await t.insert([{ id: 3, s: 'd' }])
      expect((await t.orderBy(t.c.id).select('up').collect()).rows.map((r) => r.up)).toEqual(['C', 'A', 'D'])
      // a stored column over an unstored one computes from the inputs
      await t.addComputedColumn('up_len', t.c.up.len())
      expect((await t.orderBy(t.c.id).select('up_len').collect()).rows.map((r) => r.up_len)).toEqual([1, 1, 1])
      // errortype of an unstored column is null: nothing is stored
      expect((await t.where(t.c.id.eq(1)).select({ e: t.c.up.errortype }).collect()).rows).toEqual([{ e: null }])
      // joins qualify the definition with its own table
      const o = await db.createTable('unst_other', { id: 'int', up: 'string' })
      await o.insert([{ id: 1, up: 'x' }])
      expect((await t.join(o, { on: t.c.id.eq(o.c.id) }).select({ mine: t.c.up, theirs: o.c.up }).collect()).rows).toEqual([{ mine: 'C', theirs: 'x' }])
      // a view carries it unstored; time travel reads it too
      const v = await db.createView('unst_view', t, { where: t.c.id.gt(1) })
      expect((await v.orderBy(v.c.id).select('up').collect()).rows.map((r) => r.up)).toEqual(['A', 'D'])
      expect((await (await db.get('unst:2')).orderBy('id').select('up').collect()).rows.map((r) => r.up)).toEqual(['B', 'A'])
      expect(await err(t.recomputeColumns('up'))).toMatchObject({ message: expect.stringContaining("'up' is not stored") })
      // updates and deletes filter on the definition
      await t.update({ s: 'dd' }, { where: t.c.up.eq('D') })
      expect((await t.where(t.c.id.eq(3)).select('up').collect()).rows).toEqual([{ up: 'DD' }])
      expect((await v.orderBy(v.c.id).select('up').collect()).rows.map((r) => r.up)).toEqual(['A', 'DD'])
      expect(await err(t.delete({ where: t.c.loud.eq('x') }))).toMatchObject({ code: 'INVALID_EXPRESSION', message: expect.stringContaining('must run in SQL') })
      expect(await err(t.addComputedColumn('bad', t.c.s.upper(), { stored: 'no' as never }))).toMatchObject({ message: expect.stringContaining('stored must be true or false') })
      expect((await db.check()).problems).toEqual([])
      await db.dropTable('unst_view')
      await t.dropColumn('up_len')
      await t.dropColumn('loud')
      await t.dropColumn('up')
      expect(Object.keys(t.schema())).toEqual(['id', 's'])
      await t.revert()
      expect((await t.orderBy(t.c.id).select('up').collect()).rows.map((r) => r.up)).toEqual(['C', 'A', 'DD'])
    })
  })

  describe('an invalid media file with onError: ignore is stored as null plus its error', () => {
    test('as in Pixeltable: the insert goes through, the cell holds the error; the default still refuses the batch', async () => {
      const { writeFileSync, mkdtempSync } = await import('node:fs')
      const { tmpdir } = await import('node:os')
      const { join } = await import('node:path')
      const sharp = (await import('sharp')).default
      const dir = mkdtempSync(join(tmpdir(), 'tessera-i20-media-'))
      const good = join(dir, 'good.png')
      writeFileSync(good, await sharp({ create: { width: 4, height: 3, channels: 3, background: '#f00' } }).png().toBuffer())
      const bad = join(dir, 'bad.png')
      writeFileSync(bad, 'not an image')
      const t = await db.createTable('media_ign', { id: 'int', photo: 'image' }, { primaryKey: 'id' })
      const e = await err(t.insert([{ id: 1, photo: good }, { id: 2, photo: bad }]))
      expect(e.code).toBe('INVALID_MEDIA')
      expect(await t.count()).toBe(0)
      const st = await t.insert([{ id: 1, photo: good }, { id: 2, photo: bad }], { onError: 'ignore' })
      expect(st).toMatchObject({ numInserted: 2, numExcs: 1, colsWithExcs: ['photo'] })
      const rows = (await t.orderBy(t.c.id).select({ id: t.c.id, photo: t.c.photo, et: t.c.photo.errortype, em: t.c.photo.errormsg }).collect()).rows
      expect(rows[0]).toMatchObject({ id: 1, et: null, em: null })
      expect(rows[0]!.photo).toEqual(expect.any(String))
      expect(rows[1]).toMatchObject({ id: 2, photo: null, et: 'INVALID_MEDIA', em: expect.stringContaining('sharp cannot decode it') })
      // a computed column over it sees null; an update with a good file clears the error
      await t.addComputedColumn('w', t.c.photo.astype('string').len(), { onError: 'ignore' })
      await t.update({ photo: good }, { where: t.c.id.eq(2) })
      expect((await t.where(t.c.id.eq(2)).select({ et: t.c.photo.errortype }).collect()).rows).toEqual([{ et: null }])
      // errortype of a column that cannot hold errors is refused by name, not a SQL error
      expect(await err(t.select({ x: t.c.id.errortype }).collect())).toMatchObject({ code: 'INVALID_EXPRESSION', message: expect.stringContaining("column 'id' has no errortype") })
      expect((await db.check()).problems).toEqual([])
    })
  })

  describe('no silent options', () => {
    test('createTable, insert, addColumn and addComputedColumn refuse names they do not take', async () => {
      let e = await err(db.createTable('opt_t', { id: 'int' }, { primary_key: 'id' } as never))
      expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining("createTable: unknown option 'primary_key'; it takes 'primaryKey'") })
      const t = await db.createTable('opt_t', { id: 'int', s: 'string' })
      e = await err(t.insert([{ id: 1, s: 'a' }], { on_error: 'ignore' } as never))
      expect(e.message).toContain("insert: unknown option 'on_error'")
      e = await err(t.addComputedColumn('up', t.c.s.upper(), { dest: 's3://b' } as never))
      expect(e.message).toContain("addComputedColumn: unknown option 'dest'")
      e = await err(t.addColumn('n', 'int?', { nullable: true } as never))
      expect(e.message).toContain("addColumn: unknown option 'nullable'")
      expect(Object.keys(t.schema())).toEqual(['id', 's'])
      expect(await t.count()).toBe(0)
    })
  })
}
