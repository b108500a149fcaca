import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { exportQuery, importData, importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// README: options a call does not take are refused by name, never silently ignored. importFile and exportQuery
// ignored them (primary_key, media: 'cpoy'), and an import into an existing table ignored primaryKey and schema.

let db: Tessera
const dir = tempDir('tessera-io-options-')
const csv = join(dir, 'p.csv')
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { code?: string }) => e)

beforeAll(async () => {
  db = await memoryDb()
  writeFileSync(csv, 'id,v\n1,a\n2,b\n')
})
afterAll(async () => {
  await db.close()
})

test('importFile and importData refuse an option they do not take, by name, and an onBadRow they do not know', async () => {
  const e = await failure(importFile(db, 'pk', csv, { primary_key: 'id' } as never))
  expect(e?.code).toBe('INVALID_ARGUMENT')
  expect(e?.message).toContain(`unknown option 'primary_key'`)
  expect(await db.getTable('pk').then(() => true, () => false)).toBe(false)
  const d = await failure(importData(db, 'pk', new TextEncoder().encode('id\n1\n'), { format: 'csv', onBadRows: 'skip' } as never))
  expect(d?.message).toContain(`unknown option 'onBadRows'`)
  const m = await failure(importFile(db, 'pk', csv, { onBadRow: 'stop' } as never))
  expect(m?.message).toContain(`onBadRow must be 'abort' or 'skip'`)
})

test('exportQuery refuses an option it does not take, and a media mode it does not know', async () => {
  const t = await db.createTable('ex', { id: 'int' })
  const e = await failure(exportQuery(t, join(dir, 'ex.csv'), { batch_size: 10 } as never))
  expect(e?.message).toContain(`unknown option 'batch_size'`)
  const m = await failure(exportQuery(t, join(dir, 'ex.csv'), { media: 'cpoy' } as never))
  expect(m?.message).toContain(`media must be 'path' or 'copy'`)
  const d = await failure(exportQuery(t, join(dir, 'ex.csv'), { mediaDir: join(dir, 'm') }))
  expect(d?.message).toContain(`without media: 'copy' nothing is copied`)
})

test('into an existing table, primaryKey and schema must say what the table is: refused naming the difference, taken when they match', async () => {
  await db.createTable('existing', { id: 'int', v: 'string?' })
  const pk = await failure(importFile(db, 'existing', csv, { primaryKey: 'id' }))
  expect(pk?.code).toBe('INVALID_ARGUMENT')
  expect(pk?.message).toContain(`primary key (id) was given, but 'existing' exists and has no primary key`)
  const type = await failure(importFile(db, 'existing', csv, { schema: { v: 'string' } }))
  expect(type?.message).toContain(`type 'string' was given for column 'v', but 'existing' exists with 'v' of type 'string?'`)
  const missing = await failure(importFile(db, 'existing', csv, { schema: { w: 'int' } }))
  expect(missing?.message).toContain(`without that column`)
  expect((await (await db.getTable('existing')).collect()).rows.length).toBe(0)

  await db.createTable('keyed', { id: 'int', v: 'string?' }, { primaryKey: 'id' })
  const r = await importFile(db, 'keyed', csv, { primaryKey: ['id'], schema: { v: 'string?', id: 'int' } })
  expect(r.rowsInserted).toBe(2)
  const other = await failure(importFile(db, 'keyed', csv, { primaryKey: 'v' }))
  expect(other?.message).toContain(`and has primary key (id)`)
})
