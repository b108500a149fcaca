import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import { embedders, Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { applySetup, defineSetup } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A setup's dropColumn of a column that a computed column or an embedding index reads (or a key column) passed the
// plan ("would drop column docs.text"); the apply then failed at the drop, after the setup's earlier changes were
// made, and listed the failed drop among them. The plan now refuses it, naming what reads the column. A replace of a
// computed column that another computed column reads (addComputedColumn with ifExists: 'replace'), which the catalog
// refuses too, alike.

let db: Tessera
beforeAll(async () => {
  db = await Tessera.open({ home: join(tempDir('tessera-setup-drop-used-'), 'data'), restoreFrom: await templateBlob() })
  await applySetup(defineSetup(async (s) => {
    const docs = await s.createTable('docs', { id: 'int', text: 'string', note: 'string?' }, { primaryKey: 'id' })
    await docs.addComputedColumn('upper', docs.c.text.upper())
    await docs.addEmbeddingIndex('note', { embed: embedders.lexical({ dims: 16 }), name: 'lex' })
    await docs.addComputedColumn('shout', docs.c.upper.lower())
  }), db as unknown as SetupTarget)
})
afterAll(async () => {
  await db.close()
})

const dropping = (column: string, before?: string) => defineSetup(async (s) => {
  await s.createTable('first', { id: 'int' })
  const docs = await s.createTable('docs', { id: 'int', text: 'string', note: 'string?' }, { primaryKey: 'id' })
  if (before) await docs.dropColumn(before)
  await docs.dropColumn(column)
})

async function refusedOn(target: SetupTarget): Promise<void> {
  for (const [column, message] of [
    ['text', "dropColumn('text') on docs: the column is used by computed column(s) 'upper' (drop them first: dropColumn('upper'))"],
    ['upper', "dropColumn('upper') on docs: the column is used by computed column(s) 'shout' (drop them first: dropColumn('shout'))"],
    ['note', "dropColumn('note') on docs: the column is used by embedding index(es) 'lex'"],
    ['id', "dropColumn('id') on docs: the column is part of the primary key and cannot be dropped"],
  ] as const) {
    for (const plan of [true, false]) {
      const e = (await rejection(applySetup(dropping(column), target, { plan }))) as Error & { code?: string }
      expect(e.code).toBe('HAS_DEPENDENTS')
      expect(e.message).toStartWith(message)
    }
  }
  expect(await db.listTables()).toEqual(['docs'])
  // Dropping what reads it first is planned in order.
  expect((await applySetup(dropping('upper', 'shout'), target, { plan: true })).changes).toEqual(['create table first (id int)', 'drop column docs.shout', 'drop column docs.upper'])

  const replacing = defineSetup(async (s) => {
    await s.createTable('first', { id: 'int' })
    const docs = await s.createTable('docs', { id: 'int', text: 'string', note: 'string?' }, { primaryKey: 'id' })
    await docs.addComputedColumn('upper', docs.c.text.strip(), { ifExists: 'replace' })
  })
  for (const plan of [true, false]) {
    const e = (await rejection(applySetup(replacing, target, { plan }))) as Error & { code?: string }
    expect(e.code).toBe('HAS_DEPENDENTS')
    expect(e.message).toStartWith("addComputedColumn('upper') on docs with ifExists 'replace': computed column 'shout' reads the column, and a replace does not recompute it")
  }
  expect(await db.listTables()).toEqual(['docs'])
}

test('a drop of a column something reads fails the plan, and the apply changes nothing', async () => {
  await refusedOn(db as unknown as SetupTarget)
})

test('and over HTTP (tessera apply --url)', async () => {
  const app = createApp(db)
  await refusedOn(connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) }) as unknown as SetupTarget)
})
