import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Tessera, udf } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { printExpr } from '../../src/query/index.ts'
import { memoryDb, tempDir, templateBlob } from '../support/db.ts'

// Views follow their base's schema changes as they follow its rows (src/catalog/views.ts followBaseSchema): a base
// change a view could not follow is refused before the base commits, naming the view; a view's sync of its base is
// undone by reverting the base, not the view; and a view that fails to follow never fails the base write that committed.

let db: Tessera
beforeAll(async () => {
  db = await memoryDb()
  for (const dir of ['rn', 'dr', 'dd', 'vi', 'ad', 'rc', 'cl', 'rv', 'fl']) await db.createDir(dir)
})
afterAll(async () => { await db.close() })

const err = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection') }, (e) => e as Error & { code?: string; details?: Record<string, unknown> })
const ids = async (t: Table) => (await t.orderBy(t.c.id!).select('id').collect()).rows.map((r) => r.id)
const kinds = async (t: Table) => (await t.history()).map((h) => h.kind)

describe('a base column a view filters on or expands', () => {
  test('renaming it renames it in the view (where, columns) in the sync that follows, and the view keeps following', async () => {
    const items = await db.createTable('rn/items', { id: 'int', price: 'float', body: 'string?' })
    const cheap = await db.createView('rn/cheap', items, { where: items.c.price.lt(2) })
    const chunks = await db.createView('rn/chunks', items, { iterator: { name: 'string_splitter', input: 'body', args: { separators: 'sentence' } } })
    await items.insert([{ id: 1, price: 0.5, body: 'Cats nap. Dogs run.' }, { id: 2, price: 5, body: 'Birds sing.' }])

    await items.renameColumn('price', 'cost') // threw "unknown column 'price'" although committed
    expect(Object.keys(items.schema())).toEqual(['id', 'cost', 'body'])
    expect(printExpr(cheap.md.view!.where!)).toBe('(cost < 2)')
    expect(Object.keys(cheap.schema())).toEqual(['id', 'cost', 'body'])
    expect((await cheap.history())[0]!.kind).toBe('sync')

    await items.insert([{ id: 3, cost: 0.1, body: 'Fish swim. Cows moo.' }, { id: 4, cost: 9, body: null }])
    expect(await ids(cheap)).toEqual([1, 3])
    expect((await cheap.where(cheap.c.id.eq(3)).select('cost').collect()).rows).toEqual([{ cost: 0.1 }])
    expect((await chunks.orderBy(chunks.c.id).orderBy(chunks.c.pos).select('id', 'text').collect()).rows.map((r) => `${r.id}:${r.text}`))
      .toEqual(['1:Cats nap.', '1:Dogs run.', '2:Birds sing.', '3:Fish swim.', '3:Cows moo.'])

    // The iterator's input follows a rename too.
    await items.renameColumn('body', 'doc')
    await items.insert([{ id: 5, cost: 1, doc: 'Frogs jump.' }])
    expect((await chunks.where(chunks.c.id.eq(5)).select('text', 'doc').collect()).rows).toEqual([{ text: 'Frogs jump.', doc: 'Frogs jump.' }])
    expect(await ids(cheap)).toEqual([1, 3, 5])

    // Reverting the base's rename is mirrored: the view's where and columns have the old names again.
    await items.revert() // the insert of 5
    await items.revert() // the rename body → doc
    expect(Object.keys(chunks.schema())).toContain('body')
    await items.insert([{ id: 6, cost: 1, body: 'Goats eat.' }])
    expect((await chunks.where(chunks.c.id.eq(6)).select('text').collect()).rows).toEqual([{ text: 'Goats eat.' }])
    expect((await db.check()).problems).toEqual([])
  })

  test('dropping it is refused, naming the view, and nothing commits', async () => {
    const items = await db.createTable('dr/items', { id: 'int', price: 'float', body: 'string?', note: 'string?' })
    const cheap = await db.createView('dr/cheap', items, { where: items.c.price.lt(2) })
    const chunks = await db.createView('dr/chunks', items, { iterator: { name: 'string_splitter', input: 'body', args: { separators: 'sentence' } } })
    await items.insert([{ id: 1, price: 0.5, body: 'Cats nap.' }])
    const before = await kinds(items)

    const e = await err(items.dropColumn('price'))
    expect(e.code).toBe('HAS_DEPENDENTS')
    expect(e.message).toBe("column 'price' of 'dr/items' cannot be dropped or replaced: view 'dr/cheap' filters on it (where (price < 2)); drop the view first")
    expect(e.details!.view).toBe('dr/cheap')
    const e2 = await err(items.dropColumn('body'))
    expect(e2.message).toContain("view 'dr/chunks' expands it")
    expect(await kinds(items)).toEqual(before)
    expect(Object.keys(items.schema())).toEqual(['id', 'price', 'body', 'note'])

    // A column no view uses can go: the views lose it too, and later writes flow on.
    await items.dropColumn('note')
    expect(Object.keys(cheap.schema())).toEqual(['id', 'price', 'body'])
    await items.insert([{ id: 2, price: 1, body: 'Dogs run.' }])
    expect(await ids(cheap)).toEqual([1, 2])
    expect(await chunks.count()).toBe(2)
    expect((await db.check()).problems).toEqual([])
  })

  test('dropping it is refused while a view\'s own computed column, or a view of the view, uses it', async () => {
    const items = await db.createTable('dd/items', { id: 'int', name: 'string', size: 'int' })
    const all = await db.createView('dd/all', items)
    await all.addComputedColumn('label', all.c.name.upper())
    await db.createView('dd/big', all, { where: all.c.size.gt(2) })
    await items.insert([{ id: 1, name: 'a', size: 3 }])

    const e = await err(items.dropColumn('name'))
    expect(e.code).toBe('HAS_DEPENDENTS')
    expect(e.message).toBe("column 'name' of 'dd/items' cannot be dropped or replaced: view 'dd/all' uses it in its computed column(s) 'label'; drop those from the view first")
    const e2 = await err(items.dropColumn('size'))
    expect(e2.message).toBe("column 'size' of 'dd/all' cannot be dropped or replaced: view 'dd/big' filters on it (where (size > 2)); drop the view first")
    expect(Object.keys(items.schema())).toEqual(['id', 'name', 'size'])

    // Once the view's column is gone, so can the base's.
    await all.dropColumn('label')
    await items.dropColumn('name')
    expect(Object.keys(all.schema())).toEqual(['id', 'size'])
  })

  test('on a view, renaming the iterator input keeps expanding; dropping it is refused', async () => {
    const items = await db.createTable('vi/items', { id: 'int', body: 'string' })
    const chunks = await db.createView('vi/chunks', items, { iterator: { name: 'string_splitter', input: 'body', args: { separators: 'sentence' } } })
    await chunks.renameColumn('body', 'source')
    await items.insert([{ id: 1, body: 'Cats nap. Dogs run.' }])
    expect((await chunks.orderBy(chunks.c.pos).select('text', 'source').collect()).rows).toEqual([{ text: 'Cats nap.', source: 'Cats nap. Dogs run.' }, { text: 'Dogs run.', source: 'Cats nap. Dogs run.' }])
    const e = await err(chunks.dropColumn('source'))
    expect(e.code).toBe('HAS_DEPENDENTS')
    expect(e.message).toContain("is the input of the iterator of view 'vi/chunks'")
  })
})

describe('a view carries every base column', () => {
  test('a column added to the base appears in the view, with the base\'s values for rows already there', async () => {
    const items = await db.createTable('ad/items', { id: 'int', price: 'float', body: 'string' })
    const cheap = await db.createView('ad/cheap', items, { where: items.c.price.lt(2) })
    const chunks = await db.createView('ad/chunks', items, { iterator: { name: 'string_splitter', input: 'body', args: { separators: 'sentence' } } })
    await items.insert([{ id: 1, price: 0.5, body: 'Cats nap. Dogs run.' }, { id: 2, price: 7, body: 'Birds sing.' }])

    await items.addColumn('color', 'string?')
    await items.insert([{ id: 3, price: 1, body: 'Fish swim.', color: 'red' }])
    expect((await cheap.orderBy(cheap.c.id).select('id', 'color').collect()).rows).toEqual([{ id: 1, color: null }, { id: 3, color: 'red' }])

    // A computed column is backfilled in the base in place: the view's rows get the values too, iterator rows included.
    await items.addComputedColumn('shout', items.c.body.upper())
    expect((await cheap.orderBy(cheap.c.id).select('id', 'shout').collect()).rows).toEqual([{ id: 1, shout: 'CATS NAP. DOGS RUN.' }, { id: 3, shout: 'FISH SWIM.' }])
    expect((await chunks.orderBy(chunks.c.id).orderBy(chunks.c.pos).select('text', 'shout').collect()).rows.map((r) => `${r.text}=${r.shout}`))
      .toEqual(['Cats nap.=CATS NAP. DOGS RUN.', 'Dogs run.=CATS NAP. DOGS RUN.', 'Birds sing.=BIRDS SING.', 'Fish swim.=FISH SWIM.'])
    await items.update({ body: 'Eels glide.' }, { where: items.c.id.eq(1) })
    expect((await cheap.where(cheap.c.id.eq(1)).select('shout').collect()).rows).toEqual([{ shout: 'EELS GLIDE.' }])

    // Earlier view versions keep the schema they had; a base revert takes the column out of the view again.
    const v1 = await db.get('ad/cheap:1')
    expect(Object.keys(v1.schema())).toEqual(['id', 'price', 'body'])
    await items.revert() // the update
    await items.revert() // the computed column
    expect(Object.keys(cheap.schema())).toEqual(['id', 'price', 'body', 'color'])
    expect((await db.check()).problems).toEqual([])
  })

  test('a renamed base column is renamed in the view and in its computed columns; a dropped one leaves it', async () => {
    const items = await db.createTable('rc/items', { id: 'int', name: 'string', tag: 'string?' })
    const all = await db.createView('rc/all', items)
    await all.addComputedColumn('label', all.c.name.upper())
    await items.renameColumn('name', 'title')
    expect(Object.keys(all.schema())).toEqual(['id', 'title', 'tag', 'label'])
    expect(all.columns().find((c) => c.name === 'label')!.computedWith).toBe('upper(title)')
    await items.insert([{ id: 1, title: 'pen' }])
    expect((await all.select('title', 'label').collect()).rows).toEqual([{ title: 'pen', label: 'PEN' }])

    await items.dropColumn('tag')
    expect(Object.keys(all.schema())).toEqual(['id', 'title', 'label'])
    await items.revert()
    expect(Object.keys(all.schema())).toEqual(['id', 'title', 'tag', 'label'])
  })

  test('a base column named like a column of the view\'s own is carried as base_<name>', async () => {
    const items = await db.createTable('cl/items', { id: 'int', name: 'string' })
    const all = await db.createView('cl/all', items)
    await all.addComputedColumn('label', all.c.name.upper())
    await items.addColumn('label', 'string?')
    await items.insert([{ id: 1, name: 'a', label: 'mine' }])
    expect((await all.select('name', 'label', 'base_label').collect()).rows).toEqual([{ name: 'a', label: 'A', base_label: 'mine' }])
  })

  test('the view follows schema changes across a reopen of the data dir', async () => {
    const home = tempDir()
    let d = await Tessera.open({ home, restoreFrom: await templateBlob() })
    const items = await d.createTable('items', { id: 'int', price: 'float' })
    await d.createView('cheap', items, { where: items.c.price.lt(2) })
    await items.renameColumn('price', 'cost')
    await items.addColumn('color', 'string?')
    await items.insert([{ id: 1, cost: 1, color: 'red' }])
    await d.close()
    d = await Tessera.open({ home })
    const cheap = await d.getTable('cheap')
    expect((await cheap.select('id', 'cost', 'color').collect()).rows).toEqual([{ id: 1, cost: 1, color: 'red' }])
    expect((await d.check()).problems).toEqual([])
    await d.close()
  })
})

describe('reverting a view', () => {
  test('its sync of the base is refused (revert the base); its own changes revert; base reverts are mirrored', async () => {
    const items = await db.createTable('rv/items', { id: 'int', price: 'float' })
    const cheap = await db.createView('rv/cheap', items, { where: items.c.price.lt(2) })
    await items.insert([{ id: 1, price: 0.5 }])
    const history = await kinds(cheap)

    const e = await err(cheap.revert())
    expect(e.code).toBe('READ_ONLY')
    expect(e.message).toContain("'rv/cheap' is a view: its latest version follows its base 'rv/items', so revert the base instead")
    expect(await ids(cheap)).toEqual([1])
    expect(await kinds(cheap)).toEqual(history)

    await cheap.addComputedColumn('twice', cheap.c.price.mul(2))
    await cheap.revert() // the view's own change
    expect(Object.keys(cheap.schema())).toEqual(['id', 'price'])

    await items.revert() // the insert: mirrored by the view
    expect(await ids(cheap)).toEqual([])
    expect(await kinds(cheap)).toEqual(history.slice(1))
  })
})

describe('a view that cannot follow its base', () => {
  test('does not fail the base write that committed, nor stop other views; check() and opening the view report it', async () => {
    const picky = udf({ name: 'test_view_picky', returns: 'string', params: ['string'], fn: (s: string) => { if (s === 'bad') throw new Error('cannot take bad'); return s } })
    const items = await db.createTable('fl/items', { id: 'int', name: 'string' })
    const strict = await db.createView('fl/strict', items)
    await strict.addComputedColumn('checked', picky(strict.c.name))
    const other = await db.createView('fl/other', items)
    await items.insert([{ id: 1, name: 'ok' }])

    const st = await items.insert([{ id: 2, name: 'bad' }]) // committed: it returns
    expect(st.numInserted).toBe(1)
    expect(await ids(items)).toEqual([1, 2])
    expect(await ids(other)).toEqual([1, 2])
    // A handle taken before reads as opening does: it tries to follow, and fails with why (it served [1] silently).
    expect((await err(ids(strict))).message).toContain('cannot take bad')
    const problems = (await db.check()).problems.filter((p) => p.table === 'fl/strict')
    expect(problems).toHaveLength(1)
    expect(problems[0]!.problem).toContain("view has not followed 'fl/items' since its version 1 (it is at 2)")
    expect(problems[0]!.problem).toContain('cannot take bad')
    expect((await err(db.getTable('fl/strict'))).message).toContain('cannot take bad')

    // Once the row is gone, the view follows again.
    await items.delete({ where: items.c.id.eq(2) })
    expect(await ids(strict)).toEqual([1])
    expect(strict.md.view!.syncedBaseVersion).toBe(items.version)
    expect((await db.check()).problems).toEqual([])
  })
})
