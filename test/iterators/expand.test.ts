import { expect, test } from 'bun:test'
import { udf } from '../../src/index.ts'
import { expandInBatches, getIterator } from '../../src/iterators/index.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// Iterator views expand entering rows in bounded batches; computed columns of the view line up across batches.

test('expandInBatches: batches of at most batchRows, pos per base row, nulls skipped, failures name the base row', async () => {
  const it = getIterator('string_splitter')
  const rows = [{ id: 1, s: 'One. Two. Three.' }, { id: 2, s: null }, { id: 3, s: 'Four. Five.' }]
  const opts = { input: 's', args: {}, batchRows: 2, rowId: (r: Record<string, unknown>) => r.id, view: 'v', iterator: 'string_splitter' }
  const batches = []
  for await (const b of expandInBatches(it, rows, opts)) batches.push(b.map((r) => [r.id, r.pos, r.text]))
  expect(batches).toEqual([[[1, 0, 'One.'], [1, 1, 'Two.']], [[1, 2, 'Three.'], [3, 0, 'Four.']], [[3, 1, 'Five.']]])
  const bad = expandInBatches(it, [{ id: 7, s: 42 }], opts)
  await expect(await throwing(bad.next())).toThrow(/iterator 'string_splitter' failed on base row 7 of view 'v'/)
})

test('a view whose sync expands to several batches computes its TypeScript columns row for row', async () => {
  const db = await memoryDb()
  try {
    const docs = await db.createTable('docs', { id: 'int', text: 'string' })
    const sentences = (id: number) => Array.from({ length: 900 }, (_, i) => `Doc ${id} sentence ${i}${'x'.repeat(i % 7)}.`).join(' ')
    await docs.insert([{ id: 1, text: sentences(1) }])
    const v = await db.createView('sents', docs, { iterator: { name: 'string_splitter', input: 'text', args: {} } })
    const width = udf({ name: 'expand_test_width', returns: 'int', batchSize: 100, fn: (s: string[]) => s.map((x) => x.length) })
    await v.addComputedColumn('w', width(v.c.text))
    // 2 x 900 = 1800 entering rows: two batches in one sync
    await docs.insert([{ id: 2, text: sentences(2) }, { id: 3, text: sentences(3) }])
    expect(await v.count()).toBe(2700)
    const wrong = await v.where(v.c.w.ne(v.c.text.len())).count()
    expect(wrong).toBe(0)
    expect((await v.where(v.c.id.eq(3)).orderBy(v.c.pos, 'desc').limit(1).select('pos', 'text').collect()).rows).toEqual([{ pos: 899, text: `Doc 3 sentence 899${'x'.repeat(899 % 7)}.` }])
  } finally {
    await db.close()
  }
})
