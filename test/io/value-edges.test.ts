import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parquetWriteBuffer } from 'hyparquet-writer'
import type { Tessera } from '../../src/index.ts'
import { exportQuery, importData, importFile } from '../../src/index.ts'
import { ConvertError, converter, showValue } from '../../src/io/import/convert.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Values at the edges of the types through export and import: what an export writes imports back unchanged (float
// infinities in JSON Lines, int64 lists in Parquet), and what the store cannot hold (a day the month lacks, U+0000,
// a lone surrogate, an int64 beyond ±2^53) fails the import naming its line and column, with nothing imported.

let db: Tessera
const dir = tempDir('tessera-io-edges-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const rowsOf = async (path: string) => (await (await db.getTable(path)).orderBy('id').collect()).toObjects()
const failure = async (p: unknown) => (await rejection(p)) as Error & { code?: string }
const exists = async (path: string) => (await db.listTables()).includes(path)

describe('float infinities through JSON Lines (bug C)', () => {
  test('export writes "Infinity"/"-Infinity" and import reads them back, for JSON Lines and a JSON array', async () => {
    const t = await db.createTable('inf_src', { id: 'int', v: 'float?' })
    await t.insert([{ id: 1, v: Infinity }, { id: 2, v: -Infinity }, { id: 3, v: 1.5 }, { id: 4, v: null }])
    const file = join(dir, 'inf.jsonl')
    await exportQuery(t.orderBy(t.c.id), file)
    expect(readFileSync(file, 'utf8')).toBe('{"id":1,"v":"Infinity"}\n{"id":2,"v":"-Infinity"}\n{"id":3,"v":1.5}\n{"id":4,"v":null}\n')
    await importFile(db, 'inf_back', file, { schema: { id: 'int', v: 'float?' } })
    expect((await rowsOf('inf_back')).map((r) => r.v)).toEqual([Infinity, -Infinity, 1.5, null])
    const json = join(dir, 'inf.json')
    writeFileSync(json, JSON.stringify([{ id: 1, v: 'Infinity' }, { id: 2, v: '-Infinity' }]))
    await importFile(db, 'inf_back_json', json, { schema: { id: 'int', v: 'float?' } })
    expect((await rowsOf('inf_back_json')).map((r) => r.v)).toEqual([Infinity, -Infinity])
  })

  test('only what export writes: other number-like text stays refused, and NaN is refused as a CSV NaN is', async () => {
    for (const [text, want] of [['"1.5"', 'expected a number'], ['"inf"', 'expected a number'], ['"NaN"', 'NaN is not a storable number']] as const) {
      const e = await failure(importData(db, 'inf_bad', new TextEncoder().encode(`{"id":1,"v":1}\n{"id":2,"v":${text}}\n`), { format: 'jsonl', schema: { id: 'int', v: 'float?' } }))
      expect(e.message).toContain(`line 2, column 'v': ${want}`)
      expect(await exists('inf_bad')).toBe(false)
    }
    // A string column keeps the text.
    await importData(db, 'inf_text', new TextEncoder().encode('{"id":1,"v":"Infinity"}\n'), { format: 'jsonl', schema: { id: 'int', v: 'string' } })
    expect((await rowsOf('inf_text'))[0]!.v).toBe('Infinity')
  })
})

describe('Parquet int64 lists (bug D)', () => {
  test('an array<int64> column exported to Parquet imports back, as itself or into a json column', async () => {
    const t = await db.createTable('pq_src', { id: 'int', ai: 'array<int64>[?]', a2: 'array<int64>[2,2]?' })
    await t.insert([{ id: 1, ai: [1, 2, 3], a2: [[1, -2], [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]] }, { id: 2, ai: [], a2: null }])
    const file = join(dir, 'ai.parquet')
    await exportQuery(t.orderBy(t.c.id), file)
    await importFile(db, 'pq_back', file)
    expect(await rowsOf('pq_back')).toEqual(await rowsOf('pq_src'))
    await importFile(db, 'pq_json', file, { schema: { id: 'int', ai: 'json', a2: 'json?' } })
    expect((await rowsOf('pq_json')).map((r) => r.ai)).toEqual([[1, 2, 3], []])
  })

  test('an int64 beyond ±2^53 fails its row and column by name (not an INTERNAL error), and nothing is imported', async () => {
    const big = 2n ** 60n
    const file = join(dir, 'big.parquet')
    const schema = [
      { name: 'root', num_children: 2 },
      { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'ai', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT64', repetition_type: 'REQUIRED' },
    ] as const
    writeFileSync(file, new Uint8Array(parquetWriteBuffer({ schema: schema as never, columnData: [{ name: 'id', data: [1n, 2n] }, { name: 'ai', data: [[1n, 2n], [3n, big]] }] })))
    for (const type of ['array<int64>[?]', 'json']) {
      const e = await failure(importFile(db, 'pq_big', file, { schema: { id: 'int', ai: type } }))
      expect(e.code).toBe('INVALID_ROW')
      expect(e.message).toContain(`row 2, column 'ai'`)
      expect(e.message).toContain(`${big} is beyond ±2^53`)
      expect(await exists('pq_big')).toBe(false)
    }
  })

  test('converter and showValue: BigInts inside values convert or are shown, never throw', () => {
    expect(converter('ai', 'array<int64>[?]', false).convert([1n, 2n])).toEqual([1, 2])
    expect(converter('j', 'json', false).convert({ a: [1n, { b: 2n }] })).toEqual({ a: [1, { b: 2 }] })
    expect(() => converter('j', 'json', false).convert([2n ** 62n])).toThrow(ConvertError)
    expect(showValue([1n, 2n ** 62n])).toBe(`["1","${2n ** 62n}"]`)
    expect(showValue({ a: 1n })).toBe('{"a":"1"}')
    expect(showValue(Number.NaN)).toBe('NaN')
    expect(showValue(-Infinity)).toBe('-Infinity')
  })
})

describe('values the store cannot hold fail the import by line and column (bugs E, F, G)', () => {
  const enc = (s: string) => new TextEncoder().encode(s)

  test('a day the month lacks, in timestamp and date columns, CSV and JSON Lines', async () => {
    const cases: [string, 'csv' | 'jsonl', Record<string, string>, string][] = [
      ['id,ts\n1,2026-01-31T00:00:00Z\n2,2026-02-30T00:00:00Z\n', 'csv', { id: 'int', ts: 'timestamp' }, "line 3, column 'ts': not a calendar day (February 2026 has 28 days)"],
      ['id,ts\n1,2026-04-31T12:00:00Z\n', 'csv', { id: 'int', ts: 'timestamp' }, "line 2, column 'ts': not a calendar day (April 2026 has 30 days)"],
      ['id,ts\n1,2026-04-31 12:00\n', 'csv', { id: 'int', ts: 'timestamp' }, "line 2, column 'ts': not a calendar day (April 2026 has 30 days)"],
      ['id,d\n1,2026-02-30\n', 'csv', { id: 'int', d: 'date' }, "line 2, column 'd': not a calendar day (February 2026 has 28 days)"],
      ['{"id":1,"ts":"2026-02-29T00:00:00Z"}\n', 'jsonl', { id: 'int', ts: 'timestamp' }, "line 1, column 'ts': not a calendar day (February 2026 has 28 days)"],
      ['id,ts\n1,0000-06-01T00:00:00Z\n', 'csv', { id: 'int', ts: 'timestamp' }, "line 2, column 'ts': a timestamp before year 1 (0000-06-01T00:00:00.000Z) is not supported"],
      ['id,d\n1,0000-01-01\n', 'csv', { id: 'int', d: 'date' }, "line 2, column 'd': not a supported date (year 0000"],
    ]
    for (const [text, format, schema, want] of cases) {
      // A table with a media column takes the general (row object) path; a plain one the cells path. Both refuse it.
      for (const extra of [{}, { pic: 'image?' }] as Record<string, string>[]) {
        const e = await failure(importData(db, 'days_bad', enc(text), { format, schema: { ...schema, ...extra } }))
        expect({ text, extra, message: e.message }).toEqual({ text, extra, message: expect.stringContaining(want) })
        expect(await exists('days_bad')).toBe(false)
      }
    }
    await importData(db, 'days_ok', enc('id,ts,d\n1,2024-02-29T12:00:00Z,2024-02-29\n'), { format: 'csv', schema: { id: 'int', ts: 'timestamp', d: 'date' } })
    expect(await rowsOf('days_ok')).toEqual([{ id: 1, ts: new Date('2024-02-29T12:00:00Z'), d: '2024-02-29' }])
  })

  test('with skip-bad-rows, the row with the impossible day is skipped and reported, the others imported', async () => {
    const r = await importData(db, 'days_skip', enc('id,ts\n1,2026-02-28T00:00:00Z\n2,2026-02-30T00:00:00Z\n3,2026-03-01T00:00:00Z\n'), { format: 'csv', schema: { id: 'int', ts: 'timestamp' }, onBadRow: 'skip' })
    expect([r.rowsInserted, r.rowsSkipped]).toEqual([2, 1])
    expect(r.problems[0]).toMatchObject({ line: 3, column: 'ts', error: expect.stringContaining('not a calendar day') })
    expect((await rowsOf('days_skip')).map((x) => x.id)).toEqual([1, 3])
  })

  test('U+0000 and lone surrogates in strings and json, CSV and JSON Lines', async () => {
    const cases: [string, 'csv' | 'jsonl', Record<string, string>, string][] = [
      ['id,s\n1,ok\n2,"a\u0000b"\n', 'csv', { id: 'int', s: 'string' }, "line 3, column 's': contains U+0000 (NUL) at character 1"],
      ['{"id":1,"s":"a\\u0000b"}\n', 'jsonl', { id: 'int', s: 'string' }, "line 1, column 's': contains U+0000 (NUL) at character 1"],
      ['{"id":1,"s":"a\\ud800b"}\n', 'jsonl', { id: 'int', s: 'string' }, "line 1, column 's': contains a lone UTF-16 surrogate (U+D800) at character 1"],
      ['{"id":1,"j":{"k":["\\udc00"]}}\n', 'jsonl', { id: 'int', j: 'json' }, "line 1, column 'j': a string in it contains a lone UTF-16 surrogate"],
      ['{"id":1,"j":{"k\\u0000":1}}\n', 'jsonl', { id: 'int', j: 'json' }, "line 1, column 'j': a key in it contains U+0000"],
    ]
    for (const [text, format, schema, want] of cases) {
      for (const extra of [{}, { pic: 'image?' }] as Record<string, string>[]) {
        const e = await failure(importData(db, 'text_bad', enc(text), { format, schema: { ...schema, ...extra } }))
        expect({ text, extra, message: e.message }).toEqual({ text, extra, message: expect.stringContaining(want) })
        expect(await exists('text_bad')).toBe(false)
      }
    }
  })
})

describe('import formats (bug H)', () => {
  test('an unknown format is refused naming the accepted ones, not read as CSV', async () => {
    const file = join(dir, 'people.csv')
    writeFileSync(file, 'id,name\n1,a\n')
    for (const format of ['xml', 'folder', 'constructor', 'CSV']) {
      const e = await failure(importFile(db, 'fmt_t', file, { format: format as never }))
      expect(e.code).toBe('INVALID_ARGUMENT')
      expect(e.message).toBe(`unknown import format "${format}"; use one of csv, tsv, json, jsonl, parquet, media ('media' for a folder of media files)`)
      expect(await exists('fmt_t')).toBe(false)
    }
    for (const format of ['xml', 'toString', 'media']) {
      const e = await failure(importData(db, 'fmt_t', new TextEncoder().encode('id\n1\n'), { format: format as never }))
      expect(e.message).toContain(`unknown import format '${format}'`)
    }
    // A file whose extension is a prototype key has no format.
    const odd = join(dir, 'data.constructor')
    writeFileSync(odd, 'id\n1\n')
    expect((await failure(importFile(db, 'fmt_t', odd))).message).toContain('cannot tell the format')
    expect(await exists('fmt_t')).toBe(false)
  })
})
