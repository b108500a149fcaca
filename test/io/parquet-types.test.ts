import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parquetWriteBuffer } from 'hyparquet-writer'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// Parquet logical types that hyparquet decodes to numbers whatever bytes carry them: a FLOAT16 column (2 fixed
// bytes) was inferred as binary, and its numbers then failed the import.

let db: Tessera
const dir = tempDir('tessera-io-pqtypes-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

test('a FLOAT16 column is inferred as float and imports its values', async () => {
  const file = join(dir, 'half.parquet')
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData: [
    { name: 'id', data: [1, 2, 3], type: 'INT32', nullable: false },
    { name: 'h', data: [0.5, null, -2.25], type: 'FLOAT16' },
  ] })))
  const r = await importFile(db, 'half', file)
  expect(r.schema).toEqual({ id: 'int', h: 'float?' })
  const t = await db.getTable('half')
  expect((await t.orderBy('id').collect()).column('h')).toEqual([0.5, null, -2.25])
})

test('a list of FLOAT16 is inferred as array<float32> (a half float is exact as a float32)', async () => {
  const file = join(dir, 'half-list.parquet')
  const schema = [
    { name: 'root', num_children: 2 },
    { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'hs', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, logical_type: { type: 'FLOAT16' }, repetition_type: 'REQUIRED' },
  ]
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({ schema: schema as never, columnData: [{ name: 'id', data: [1, 2] }, { name: 'hs', data: [[0.5, 1], [-2.25, 0]] }] })))
  const r = await importFile(db, 'half_list', file)
  expect(r.schema.hs).toBe('array<float32>')
  const t = await db.getTable('half_list')
  expect((await t.orderBy('id').collect()).column('hs').map((a) => Array.from(a as ArrayLike<number>))).toEqual([[0.5, 1], [-2.25, 0]])
})
