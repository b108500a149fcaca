import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { importFile, Tessera } from '../../src/index.ts'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// An import creating a table with a primary key (--primary-key, primaryKey) that the input cannot give failed with
// the catalog's words: "primary key column 'nope' is not in the schema of 'people'" (no file), and for a key column
// with an empty cell "primary key column 'age' cannot be nullable ('int?')", naming neither the file nor the record
// that made the inferred type nullable. Both now name the file, and the second the record without a value.

const dir = tempDir('tessera-io-pk-problems-')
let db: Tessera
beforeAll(async () => {
  db = await Tessera.open({ home: join(dir, 'data'), restoreFrom: await templateBlob() })
  writeFileSync(join(dir, 'people.csv'), 'id,name,age\n1,ann,30\n2,bob,\n3,cyd,40\n')
  writeFileSync(join(dir, 'people.jsonl'), '{"id": 1, "tag": "a"}\n{"id": 2}\n')
})
afterAll(async () => {
  await db.close()
})

const failing = async (file: string, primaryKey: string) =>
  (await rejection(importFile(db, 'people', join(dir, file), { primaryKey }))) as Error & { code?: string; details?: Record<string, unknown> }

test('a key column the input does not have is named with the file and its columns', async () => {
  const e = await failing('people.csv', 'nope')
  expect(e.message).toBe(`${join(dir, 'people.csv')} has no column 'nope' for the primary key (its columns: id, name, age); nothing was imported ('people' was not created)`)
  expect(e.details).toMatchObject({ column: 'nope' })
})

test('a key column inferred nullable names the record without a value', async () => {
  const csv = await failing('people.csv', 'age')
  expect(csv.message).toBe(`${join(dir, 'people.csv')}: the primary key column 'age' needs a value in every record, but ${join(dir, 'people.csv')}, line 3 has no value for it, so it was inferred nullable (int?); nothing was imported ('people' was not created)`)
  expect(csv.details).toMatchObject({ column: 'age', line: 3 })
  const jsonl = await failing('people.jsonl', 'tag')
  expect(jsonl.message).toContain(`${join(dir, 'people.jsonl')}, line 2 has no value for it, so it was inferred nullable (string?)`)
  expect(await db.listTables()).toEqual([])
})
