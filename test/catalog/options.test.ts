import { afterAll, expect, test } from 'bun:test'
import { embedders } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// No silent options: a misspelt option name is refused by name, with the names the call takes (issue 20).

const db = await memoryDb()
afterAll(() => db.close())

test('dirs, tables, snapshots, columns and indexes refuse option names they do not take', async () => {
  const message = async (p: Promise<unknown>) => ((await rejection(p)) as Error).message
  expect(await message(db.createDir('d', { parent: true } as never))).toContain("createDir: unknown option 'parent'; it takes 'ifExists', 'parents'")
  await db.createDir('d')
  const t = await db.createTable('d/t', { id: 'int', text: 'string' })
  expect(await message(db.createSnapshot('d/s', t, { if_exists: 'ignore' } as never))).toContain("createSnapshot: unknown option 'if_exists'")
  expect(await message(t.dropColumn('text', { ifNotExist: 'ignore' } as never))).toContain("dropColumn: unknown option 'ifNotExist'")
  expect(await message(t.addEmbeddingIndex('text', { embed: embedders.lexical(), dim: 3 } as never))).toContain("addEmbeddingIndex: unknown option 'dim'")
  expect(await message(t.dropEmbeddingIndex('lex', { force: true } as never))).toContain("dropEmbeddingIndex: unknown option 'force'")
  expect(await message(db.dropTable('d/t', { forse: true } as never))).toContain("dropTable: unknown option 'forse'")
  expect(await message(db.dropDir('d', { recursive: true } as never))).toContain("dropDir: unknown option 'recursive'")
  // Nothing was changed by the refused calls.
  expect(await db.listTables('d')).toEqual(['d/t'])
  expect(t.schema()).toEqual({ id: 'int', text: 'string' })
})

test("onError: 'ignore' on an unstored computed column is refused: a read has no cell to keep the error in", async () => {
  const t = await db.createTable('unstored_on_error', { x: 'int' })
  const e = (await rejection(t.addComputedColumn('z', t.c.x.add(1), { stored: false, onError: 'ignore' }))) as Error
  expect(e.message).toContain("onError: 'ignore' needs a stored column")
  expect(Object.keys(t.schema())).toEqual(['x'])
  await t.addComputedColumn('z', t.c.x.add(1), { stored: false })
  expect(Object.keys(t.schema())).toEqual(['x', 'z'])
})
