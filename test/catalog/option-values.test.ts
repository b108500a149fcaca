import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Option names were checked (an unknown one is refused by name) but not their values: from JavaScript or JSON,
// dropColumn('s', { ifNotExists: 'replace' }) dropped the column and addColumn('q', 'int?', { ifExists: 'nope' })
// added it, as if no option had been given. A value an option does not take is refused, naming the option and its
// values, before anything changes.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir() })
  t = await db.createTable('opts', { id: 'int', s: 'string?' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, s: 'a' }])
})
afterAll(() => db.close())

const refusal = async (p: Promise<unknown>) => (await rejection(p)) as { code?: string; message?: string }

test('a value an option does not take is refused by name, and nothing changes', async () => {
  const version = t.version
  const drop = await refusal(t.dropColumn('s', { ifNotExists: 'replace' } as never))
  expect([drop.code, drop.message]).toEqual(['INVALID_ARGUMENT', `dropColumn: option 'ifNotExists' takes "error", "ignore"; got "replace"`])
  expect((await refusal(t.addColumn('q', 'int?', { ifExists: 'nope' } as never))).message).toBe(`addColumn: option 'ifExists' takes "error", "ignore", "replace", "replace_force"; got "nope"`)
  expect((await refusal(t.insert([{ id: 2 }], { onError: 'skip' } as never))).message).toContain("insert: option 'onError' takes")
  expect((await refusal(t.batchUpdate([{ id: 1, s: 'b' }], { ifNotExists: 'upsert' } as never))).message).toContain(`"insert"; got "upsert"`)
  expect((await refusal(t.addComputedColumn('up', t.c.s.upper(), { stored: 'yes' } as never))).message).toContain('addComputedColumn: stored must be true or false, got "yes"')
  expect((await refusal(db.dropTable('opts', { force: 1 } as never))).message).toContain('dropTable: force must be true or false, got 1')
  expect((await refusal(db.createView('opts_v', t, { ifExists: 'overwrite' } as never))).message).toContain("createView: option 'ifExists'")
  expect(t.version).toBe(version)
  expect(t.columns().map((c) => c.name)).toEqual(['id', 's'])
  expect(await db.listTables()).toEqual(['opts'])
})

test('the values options take still work', async () => {
  await t.addColumn('q', 'int?', { ifExists: 'ignore' })
  await t.addColumn('q', 'int?', { ifExists: 'ignore' })
  await t.dropColumn('q', { ifNotExists: 'ignore' })
  await t.dropColumn('q', { ifNotExists: 'ignore' })
  const s = await t.batchUpdate([{ id: 7, s: 'z' }], { ifNotExists: 'insert', cascade: false })
  expect(s.numInserted).toBe(1)
})
