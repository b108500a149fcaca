import { afterAll, expect, test } from 'bun:test'
import { agg } from '../../src/index.ts'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// Grouping by an expression that holds a literal and selecting that expression: compiled twice, its literal became
// two parameters and Postgres refused the output as not grouped. The output is now the group key by position.

let db: Tessera | undefined
afterAll(() => db?.close())

test('group by an expression with a literal, selected as an output; the same shape with other literals answers anew', async () => {
  db = await memoryDb()
  const t = await db.createTable('g', { id: 'int', text: 'string' })
  await t.insert([{ id: 1, text: 'a' }, { id: 2, text: 'b' }, { id: 3, text: 'a' }])
  const byLiteral = async (lit: string) =>
    (await t.groupBy(t.c.text.eq(lit)).select({ hit: t.c.text.eq(lit), n: agg.count() }).orderBy(t.c.text.eq(lit)).collect()).rows
  expect(await byLiteral('a')).toEqual([{ hit: false, n: 1 }, { hit: true, n: 2 }])
  expect(await byLiteral('b')).toEqual([{ hit: false, n: 2 }, { hit: true, n: 1 }])
  // A group key that is not an output still compiles on its own.
  expect((await t.groupBy(t.c.text.eq('a')).select({ n: agg.count() }).orderBy(agg.count()).collect()).rows).toEqual([{ n: 1 }, { n: 2 }])
})
