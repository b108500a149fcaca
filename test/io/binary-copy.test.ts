import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { importData } from '../../src/index.ts'
import { civilDays } from '../../src/types/index.ts'
import { memoryDb } from '../support/db.ts'

// Imports on PGlite send their rows in COPY's binary format (src/catalog/data-table/copy-binary.ts), inserts as a
// jsonb document: the same values through both must read back the same, at the edges of each type's encoding.

let db: Tessera
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const SCHEMA = { id: 'int', n: 'int?', f: 'float?', b: 'bool?', s: 'string?', ts: 'timestamp?', d: 'date?', j: 'json?', u: 'uuid?', bin: 'binary?', v: 'array<float64>[2]?' }
const ROWS = [
  { id: 1, n: Number.MAX_SAFE_INTEGER, f: 1.7976931348623157e308, b: true, s: 'é ü 漢字 😀', ts: '2300-01-01T00:00:00.001Z', d: '0050-03-01', j: { k: 'ü😀', a: [1, null] }, u: '123E4567-E89B-12D3-A456-426614174000', bin: 'AAH/', v: [0.1, -2] },
  { id: 2, n: Number.MIN_SAFE_INTEGER, f: -2.5e-308, b: false, s: '', ts: '1969-12-31T23:59:59.999Z', d: '1600-02-29', j: 'plain', u: '00000000-0000-4000-8000-000000000000', bin: '', v: [1e300, -1e-300] },
  { id: 3, n: -1, f: 0.1, b: null, s: 'a,"b"\nc', ts: '1999-12-31T23:59:59.999Z', d: '2000-02-29', j: [], u: null, bin: null, v: null },
  { id: 4, n: 0, f: -0.5, b: true, s: null, ts: '2000-01-01T00:00:00.000Z', d: '9999-12-31', j: null, u: 'ffffffff-ffff-4fff-bfff-ffffffffffff', bin: '3q2+7w==', v: [0, 0] },
  { id: 5, n: 4294967296, f: 5e-324, b: false, s: 'x', ts: '9999-12-31T23:59:59.999Z', d: '1970-01-01', j: 1.5, u: null, bin: null, v: null },
]

describe('COPY binary (imports) and the jsonb document (inserts) store the same values', () => {
  test('every type at its encoding edges', async () => {
    const jsonl = ROWS.map((r) => JSON.stringify(r)).join('\n')
    const r = await importData(db, 'imported', new TextEncoder().encode(jsonl), { format: 'jsonl', schema: SCHEMA, primaryKey: 'id' })
    expect(r.rowsInserted).toBe(ROWS.length)
    const inserted = await db.createTable('inserted', SCHEMA, { primaryKey: 'id' })
    await inserted.insert(ROWS.map((row) => ({ ...row, bin: row.bin === null ? null : new Uint8Array(Buffer.from(row.bin, 'base64')) })))
    const a = (await (await db.getTable('imported')).orderBy('id').collect()).rows
    const b = (await inserted.orderBy('id').collect()).rows
    expect(a).toEqual(b)
    expect(a[0]!.ts).toEqual(new Date('2300-01-01T00:00:00.001Z'))
    expect(a[1]!.d).toBe('1600-02-29')
    expect(a[0]!.d).toBe('0050-03-01')
    expect(a[0]!.u).toBe('123e4567-e89b-12d3-a456-426614174000')
  })

  test('floats that JSON cannot carry: infinities, negative zero', async () => {
    const csv = 'id,f\n1,Infinity\n2,-Infinity\n3,-0\n'
    await importData(db, 'floats', new TextEncoder().encode(csv), { format: 'csv', schema: { id: 'int', f: 'float' } })
    const f = (await (await db.getTable('floats')).orderBy('id').collect()).rows.map((r) => r.f as number)
    expect(f.slice(0, 2)).toEqual([Infinity, -Infinity])
    expect(Object.is(f[2], -0)).toBe(true)
  })

  test('a date the month does not have fails its row, named by line and column', async () => {
    const csv = 'id,d\n1,2024-02-29\n2,2023-02-29\n'
    const err = await importData(db, 'dates', new TextEncoder().encode(csv), { format: 'csv', schema: { id: 'int', d: 'date?' } }).catch((e) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err.message).toContain('line 3')
    expect(err.message).toContain("column 'd'")
    expect((await db.listTables()).includes('dates')).toBe(false)
  })
})

test('civilDays counts days from 1970-01-01 and refuses days a month lacks', () => {
  expect(civilDays(1970, 1, 1)).toBe(0)
  expect(civilDays(2000, 1, 1)).toBe(10_957)
  expect(civilDays(1969, 12, 31)).toBe(-1)
  expect(civilDays(2024, 2, 29)).toBe(Date.UTC(2024, 1, 29) / 86_400_000)
  expect(civilDays(2023, 2, 29)).toBeUndefined()
  expect(civilDays(1900, 2, 29)).toBeUndefined()
  expect(civilDays(2023, 4, 31)).toBeUndefined()
  expect(civilDays(2023, 13, 1)).toBeUndefined()
})
