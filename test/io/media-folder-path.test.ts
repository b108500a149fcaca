import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// A folder of media files given by a relative path (`tessera import imgs app/files`, as a user types it): each row's
// path is the file's absolute path. With files of several kinds (a string column) the path was stored as typed
// ('imgs/a.jpg'), relative to the importing process's working directory, which a server or a later reader does not
// share; a single-kind folder (an image column) was resolved, so the two disagreed.

let db: Tessera
const dir = tempDir('tessera-io-media-folder-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

test('a relative folder path: every row names its file by absolute path', async () => {
  const root = join(dir, 'mixed')
  mkdirSync(join(root, 'sub'), { recursive: true })
  writeFileSync(join(root, 'a.jpg'), 'x')
  writeFileSync(join(root, 'sub', 'notes.txt'), 'zzz')
  const given = relative(process.cwd(), root)
  expect(given.startsWith('/')).toBe(false)
  const r = await importFile(db, 'files', given)
  expect(r.schema.path).toBe('string')
  const rows = (await (await db.getTable('files')).orderBy('name').collect()).rows
  expect(rows.map((row) => [row.name, row.path])).toEqual([['a.jpg', join(root, 'a.jpg')], ['sub/notes.txt', join(root, 'sub', 'notes.txt')]])
})
