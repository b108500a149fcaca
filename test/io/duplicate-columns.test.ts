import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parquetWriteBuffer } from 'hyparquet-writer'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// Column names an input repeats, or a name the importer makes up for an empty header field.

let db: Tessera
const dir = tempDir('tessera-io-dupcols-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const exists = (t: string) => db.getTable(t).then(() => true, () => false)

test('a Parquet file with two columns of the same name is refused, naming the column (the second one vanished)', async () => {
  const file = join(dir, 'dup.parquet')
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({
    columnData: [{ name: 'a', data: [1, 2], type: 'INT32' }, { name: 'a', data: [30, 40], type: 'INT32' }, { name: 'b', data: ['x', 'y'], type: 'STRING' }],
  })))
  const e = await importFile(db, 'pq_dup', file).then(() => undefined, (x: Error & { code?: string }) => x)
  expect(e?.code).toBe('INVALID_ARGUMENT')
  expect(e?.message).toContain(`column 'a' appears twice`)
  expect(await exists('pq_dup')).toBe(false)
})

test('an empty CSV header field is named column_<n>, or column_<n>_2 where the header has that name already', async () => {
  const file = join(dir, 'empty-name.csv')
  writeFileSync(file, 'column_2,\n1,2\n')
  const r = await importFile(db, 'empty_name', file)
  expect(Object.keys(r.schema)).toEqual(['column_2', 'column_2_2'])
  writeFileSync(file, 'id,,x\n1,2,3\n')
  const r2 = await importFile(db, 'empty_name2', file)
  expect(Object.keys(r2.schema)).toEqual(['id', 'column_2', 'x'])
})

test('a CSV header naming a column twice is still refused', async () => {
  const file = join(dir, 'twice.csv')
  writeFileSync(file, 'id,id\n1,2\n')
  const e = await importFile(db, 'twice', file).then(() => undefined, (x: Error) => x)
  expect(e?.message).toContain(`column 'id' appears twice in the header`)
})
