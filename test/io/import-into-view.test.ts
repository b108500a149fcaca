import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { importFile, Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// An import into a view was refused for the file's columns first ("column 'name' is not in 'short'"), and only once
// the file matched for being a view. A view (or snapshot) takes no imported rows: that is said first, whatever the file.

let db: Tessera
const dir = tempDir()
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir() })
  const docs = await db.createTable('docs', { id: 'int', text: 'string' })
  await docs.insert([{ id: 1, text: 'a' }])
  await db.createView('short', docs)
  await db.createSnapshot('docs_then', docs)
})
afterAll(() => db.close())

test('an import into a view or a snapshot is refused as such, before its columns are compared', async () => {
  const other = join(dir, 'other.csv')
  writeFileSync(other, 'name\nx\n')
  const matching = join(dir, 'matching.csv')
  writeFileSync(matching, 'id,text\n2,b\n')
  for (const file of [other, matching]) {
    const e = (await rejection(importFile(db, 'short', file))) as { code?: string; message?: string }
    expect([e.code, e.message]).toEqual(['READ_ONLY', "'short' is a view: its rows follow its base table; import into the base instead"])
  }
  const snap = (await rejection(importFile(db, 'docs_then', other))) as { code?: string; message?: string }
  expect([snap.code, snap.message]).toEqual(['READ_ONLY', "'docs_then' is read-only (a snapshot or a past version); import into a table"])
  expect(await (await db.getTable('docs')).count()).toBe(1)
})
