import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { classifyText, classifyValue } from '../../src/io/import/infer.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// Inference took a text for a date or timestamp when Date.parse read it, and Date.parse rolls a day the month lacks
// over into the next month: the column became a date column that then refused the very text it was inferred from.

let db: Tessera
const dir = tempDir('tessera-io-infercal-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const IMPOSSIBLE = ['2024-02-30', '2023-02-29', '0000-01-01', '2024-06-31 10:00', '2024-02-30T10:00:00Z', '0000-06-01T00:00:00Z']

test('text naming no calendar day (or year 0) is a string, as text and as a JSON value', () => {
  for (const s of IMPOSSIBLE) {
    expect([s, classifyText(s)]).toEqual([s, 'string'])
    expect([s, classifyValue(s)]).toEqual([s, 'string'])
  }
  expect(classifyText('2024-02-29')).toBe('date')
  expect(classifyValue('2024-02-29T10:00:00Z')).toBe('timestamp')
})

test('a file holding such text imports into a new table, every value kept', async () => {
  for (const [i, s] of IMPOSSIBLE.entries()) {
    const csv = join(dir, `d${i}.csv`)
    writeFileSync(csv, `id,note\n1,${s}\n2,2024-01-15\n`)
    const a = await importFile(db, `csv_${i}`, csv)
    expect([s, a.schema.note, a.rowsInserted]).toEqual([s, 'string', 2])
    const jsonl = join(dir, `d${i}.jsonl`)
    writeFileSync(jsonl, `${JSON.stringify({ id: 1, note: s })}\n`)
    const b = await importFile(db, `jsonl_${i}`, jsonl)
    expect([s, b.schema.note, b.rowsInserted]).toEqual([s, 'string', 1])
    const rows = (await (await db.getTable(`jsonl_${i}`)).collect()).toObjects()
    expect(rows[0]!.note).toBe(s)
  }
})
