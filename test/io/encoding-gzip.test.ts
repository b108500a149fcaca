import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Tessera } from '../../src/index.ts'
import { exportQuery, importData, importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// Bytes that are not UTF-8 (a Latin-1 'é') were stored as U+FFFD without a word; a .gz file, whose name says CSV
// (formatOf reads x.csv.gz as CSV), was read as compressed bytes, and failed on a garbage header.

let db: Tessera
const dir = tempDir('tessera-io-encoding-')
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { code?: string; details?: Record<string, unknown> }) => e)
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

test('CSV and JSON Lines whose bytes are not UTF-8 are refused naming the line and byte offset, nothing imported', async () => {
  const cases = [
    ['l.csv', 'id,name\n1,ann\n2,Jos\xe9\n'],
    ['l.jsonl', '{"id":1,"name":"ann"}\n{"id":2,"name":"Jos\xe9"}\n'],
    ['l.json', '[{"id":1,"name":"ann"},\n{"id":2,"name":"Jos\xe9"}]\n'],
  ] as const
  for (const [name, text] of cases) {
    const file = join(dir, name)
    const bytes = Buffer.from(text, 'latin1')
    writeFileSync(file, bytes)
    const e = await failure(importFile(db, `latin_${name.replace('.', '_')}`, file))
    expect([name, e?.code]).toEqual([name, 'INVALID_ARGUMENT'])
    expect(e?.message).toContain(`${file}, line ${name.endsWith('.csv') ? 3 : 2}: not valid UTF-8 at byte ${bytes.indexOf(0xe9)} (0xE9)`)
    expect(await db.getTable(`latin_${name.replace('.', '_')}`).then(() => true, () => false)).toBe(false)
  }
  // An upload too, and a character cut short at the end.
  const u = await failure(importData(db, 'latin_upload', new Uint8Array([...Buffer.from('id,name\n1,ab'), 0xc3]), { format: 'csv' }))
  expect(u?.message).toContain('upload, line 2: not valid UTF-8 at its end (a character cut short)')
})

test('UTF-8 split across read chunks is read whole', async () => {
  const name = 'é'.repeat(700_000) // 1.4 MB: the 1 MiB read splits a character
  const file = join(dir, 'long.csv')
  writeFileSync(file, `id,name\n1,${name}\n`)
  await importFile(db, 'long_utf8', file)
  expect((await (await db.getTable('long_utf8')).collect()).toObjects()[0]!.name).toBe(name)
})

test('a .gz file is decompressed as it is read (CSV, JSON Lines, Parquet); one that is not gzip is refused naming it', async () => {
  writeFileSync(join(dir, 'p.csv.gz'), gzipSync('id,name\n1,ann\n2,bob\n'))
  const csv = await importFile(db, 'gz_csv', join(dir, 'p.csv.gz'))
  expect([csv.rowsInserted, csv.schema]).toEqual([2, { id: 'int', name: 'string' }])
  writeFileSync(join(dir, 'p.jsonl.gz'), gzipSync('{"id":1}\n{"id":2}\n'))
  expect((await importFile(db, 'gz_jsonl', join(dir, 'p.jsonl.gz'))).rowsInserted).toBe(2)
  const pq = join(dir, 'p.parquet')
  await exportQuery(await db.getTable('gz_csv'), pq)
  writeFileSync(`${pq}.gz`, gzipSync(await Bun.file(pq).bytes()))
  expect((await importFile(db, 'gz_pq', `${pq}.gz`)).rowsInserted).toBe(2)
  writeFileSync(join(dir, 'plain.csv.gz'), 'id\n1\n')
  const e = await failure(importFile(db, 'gz_bad', join(dir, 'plain.csv.gz')))
  expect(e?.code).toBe('INVALID_ARGUMENT')
  expect(e?.message).toContain('plain.csv.gz: not readable gzip')
})
