import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Table, Tessera } from '../../src/index.ts'
import { exportQuery, importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// A float that is an integer beyond ±2^53 (1e20) is exact as a double and insert() takes it; its export used to be
// the digits alone (100000000000000000000), which the importer reads as an integer too big to be exact and refused.

let db: Tessera
let src: Table
const dir = tempDir('tessera-io-bigfloat-')

beforeAll(async () => {
  db = await memoryDb()
  src = await db.createTable('src', { id: 'int', f: 'float', j: 'json' })
  await src.insert([{ id: 1, f: 1e20, j: { n: 1e20 } }, { id: 2, f: -(2 ** 60), j: 1e20 }, { id: 3, f: 1.5, j: { n: 2 } }])
})
afterAll(async () => {
  await db.close()
})

const values = async (t: string) => (await (await db.getTable(t)).orderBy('id').collect()).toObjects()

for (const ext of ['jsonl', 'csv']) {
  test(`${ext}: export then import into a new table and into the same schema gives the same values`, async () => {
    const file = join(dir, `big.${ext}`)
    await exportQuery(src, file)
    // Exponent form, in a float column and inside a json value alike: it reads back as a number, not as an integer
    // literal beyond 2^53 (which the importer refuses, as it cannot tell an exact one from a rounded one).
    expect(readFileSync(file, 'utf8')).toContain('1e+20')
    expect(readFileSync(file, 'utf8')).not.toContain('100000000000000000000')
    const created = await importFile(db, `new_${ext}`, file)
    expect(created.schema.f).toBe('float')
    await db.createTable(`same_${ext}`, { id: 'int', f: 'float', j: 'json' })
    await importFile(db, `same_${ext}`, file)
    expect(await values(`same_${ext}`)).toEqual(await values('src'))
    expect((await values(`new_${ext}`)).map((r) => r.f)).toEqual([1e20, -(2 ** 60), 1.5])
  })
}

test('a float column takes an integer literal beyond 2^53 from JSON Lines as the nearest float', async () => {
  const file = join(dir, 'digits.jsonl')
  writeFileSync(file, '{"id":1,"f":100000000000000000000}\n')
  await db.createTable('digits', { id: 'int', f: 'float' })
  await importFile(db, 'digits', file)
  expect((await values('digits'))[0]!.f).toBe(1e20)
})
