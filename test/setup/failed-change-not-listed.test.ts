import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { applySetup, defineSetup } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// An apply that fails lists the changes it made before failing. The change that failed was listed among them
// ("add computed column docs.n = astype(text, type="int") (backfill of 1 rows)" after the backfill failed and the
// column was not added), since its line was written before the call: a failed call now takes its line back.

let db: Tessera
beforeAll(async () => {
  db = await Tessera.open({ home: join(tempDir('tessera-setup-failed-change-'), 'data'), restoreFrom: await templateBlob() })
  const docs = await db.createTable('docs', { id: 'int', text: 'string' })
  await docs.insert([{ id: 1, text: 'abc' }])
})
afterAll(async () => {
  await db.close()
})

test('a change whose call fails is not listed as made', async () => {
  const setup = defineSetup(async (s) => {
    await s.createTable('first', { id: 'int' })
    const docs = await s.createTable('docs', { id: 'int', text: 'string' })
    await docs.addComputedColumn('n', docs.c.text.astype('int'), { onError: 'abort' })
  })
  const e = (await rejection(applySetup(setup, db as unknown as SetupTarget))) as Error & { details?: Record<string, unknown> }
  expect(e.message).toContain('cannot cast "abc" to int')
  expect(e.message).toEndWith('this change was made before it failed:\n  create table first (id int)')
  expect(e.details?.applied).toEqual(['create table first (id int)'])
  expect(Object.keys((await db.getTable('docs')).schema())).toEqual(['id', 'text'])
})
