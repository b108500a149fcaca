import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// A new table's types come from the first 1,000 records: a later record that does not fit failed with a bare
// "expected an integer" though the user never declared int. The error now says the type was inferred, and how to
// give it or sample more; sampleSize does the latter.

let db: Tessera
const dir = tempDir('tessera-io-sample-')
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { code?: string }) => e)
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const ints = (n: number) => Array.from({ length: n }, (_, i) => `${i},${i}`).join('\n')

test('a value past the sampled records that the inferred type refuses: the error says it was inferred and how to override', async () => {
  const file = join(dir, 'late-float.csv')
  writeFileSync(file, `id,v\n${ints(1500)}\n1500,1.5\n`)
  const e = await failure(importFile(db, 'late', file))
  expect(e?.code).toBe('INVALID_ROW')
  expect(e?.message).toContain(`line 1502, column 'v': expected an integer, got "1.5"; the type int of 'v' was inferred from the first 1000 records: give the type (--type v:TYPE, or schema: { v: 'TYPE' }), or infer from more records (--sample-size N, or sampleSize)`)
  const r = await importFile(db, 'late', file, { sampleSize: 2000 })
  expect(r.schema.v).toBe('float')
  const typed = await importFile(db, 'late_typed', file, { schema: { v: 'float' } })
  expect(typed.rowsInserted).toBe(1501)
})

test('a declared type that refuses a value gets no such hint', async () => {
  const file = join(dir, 'declared.csv')
  writeFileSync(file, `id,v\n${ints(1500)}\n1500,1.5\n`)
  const e = await failure(importFile(db, 'declared', file, { schema: { v: 'int' } }))
  expect(e?.message).toContain(`expected an integer, got "1.5"; nothing was imported`)
})

test('a JSON Lines key first seen past the sampled records: the error says the columns were sampled', async () => {
  const file = join(dir, 'late-key.jsonl')
  const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ id: i }))
  writeFileSync(file, `${lines.join('\n')}\n{"id":1500,"extra":1}\n`)
  const e = await failure(importFile(db, 'late_key', file))
  expect(e?.message).toContain(`line 1501, column 'extra': unknown column 'extra'; 'late_key' has: id; the columns were taken from the first 1000 records, which have no 'extra': infer from more records (--sample-size N, or sampleSize)`)
  expect((await importFile(db, 'late_key', file, { sampleSize: 1501 })).schema).toEqual({ id: 'int', extra: 'int?' })
})

test('sampleSize must be a positive integer', async () => {
  const file = join(dir, 'late-float.csv')
  const e = await failure(importFile(db, 'bad_sample', file, { sampleSize: 0 }))
  expect(e?.message).toContain('sampleSize must be a positive integer')
})
