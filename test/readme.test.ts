import { afterAll, expect, test } from 'bun:test'
import { agg, embedders, udf } from '../src/index.ts'
import { memoryDb } from './support/db.ts'

// The README's library examples, run as written (an in-memory database instead of ./data), so the README cannot
// drift from what the code does.

const db = await memoryDb()
afterAll(() => db.close())

test('README: library example', async () => {
  await db.createDir('prod_app', { ifExists: 'ignore' })
  const docs = await db.createTable('prod_app/docs',
    { id: 'int', text: 'string', meta: 'json?', at: 'timestamp?' },
    { primaryKey: 'id', ifExists: 'ignore' })
  await docs.insert([
    { id: 1, text: 'hello world', meta: { tags: ['greeting'] } },
    { id: 2, text: 'goodbye', at: new Date() },
  ])
  const preview = await docs.select({ text: docs.c.text, n: docs.c.text.len() }).head(3)
  expect(preview.rows).toEqual([{ text: 'hello world', n: 11 }, { text: 'goodbye', n: 7 }])
  expect(docs.schema().n).toBeUndefined()
  await docs.addComputedColumn('upper', docs.c.text.upper(), { ifExists: 'ignore' })
  const rows = await docs.where(docs.c.id.gt(0).and(docs.c.text.contains('o')))
    .orderBy(docs.c.id, 'desc').limit(5)
    .select({ id: docs.c.id, upper: docs.c.upper, tag0: docs.c.meta.path('tags[0]') })
    .collect()
  expect(rows.toObjects()).toEqual([{ id: 2, upper: 'GOODBYE', tag0: null }, { id: 1, upper: 'HELLO WORLD', tag0: 'greeting' }])
  await docs.update({ text: 'hi' }, { where: docs.c.id.eq(1) })
  expect((await docs.where(docs.c.id.eq(1)).select('upper').collect()).rows).toEqual([{ upper: 'HI' }])
  await docs.upsert([{ id: 3, text: 'new' }])
  await docs.delete({ where: docs.c.text.eq(null) })
  const groups = await docs.groupBy(docs.c.meta.isNull()).select({ noMeta: docs.c.meta.isNull(), n: agg.count() }).orderBy(docs.c.meta.isNull()).collect()
  expect(groups.rows).toEqual([{ noMeta: false, n: 1 }, { noMeta: true, n: 2 }])

  // Versions
  const history = await docs.history()
  expect(history.map((h) => h.kind)).toEqual(['upsert', 'update', 'add_column', 'insert', 'create']) // the delete matched nothing
  const v1 = await db.get('prod_app/docs:1')
  expect(await v1.count()).toBe(2)
  await docs.revert()
  expect(await docs.count()).toBe(2)
})

test('README: computed columns with a UDF and per-cell errors; embedding search', async () => {
  const docs = await db.createTable('prod_app/notes', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await docs.insert([{ id: 1, text: 'lava flows from the volcano' }, { id: 2, text: 'a quiet lake at dawn' }, { id: 3, text: 'boom' }])
  const classify = udf({
    name: 'readme_classify', returns: 'string', batchSize: 32,
    fn: async (texts: string[]) => texts.map((t) => { if (t === 'boom') throw new Error('service failed'); return t.includes('lava') ? 'hot' : 'calm' }),
  })
  const s = await docs.addComputedColumn('label', classify(docs.c.text), { onError: 'ignore' })
  expect(s.numExcs).toBe(1)
  const failed = await docs.where(docs.c.label.errortype.isNotNull()).select('id', { msg: docs.c.label.errormsg }).collect()
  expect(failed.rows).toEqual([{ id: 3, msg: 'service failed' }])

  await docs.addEmbeddingIndex('text', { embed: embedders.lexical(), metric: 'cosine', ifExists: 'ignore' })
  const sim = docs.c.text.similarity('volcano lava')
  const top = await docs.orderBy(sim, 'desc').limit(1).select({ id: docs.c.id, score: sim }).collect()
  expect(top.rows[0]!.id).toBe(1)
})
