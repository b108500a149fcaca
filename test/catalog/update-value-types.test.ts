import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// An update stores a value exactly as an insert of the same value does, for every column type: update values are
// typed statement parameters, not the jsonb document an insert sends, and bytes were sent as the document's '\x…'
// hex text, which a bytea parameter refuses (500 'Invalid input for bytea type').

let db: Tessera
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

/** [type, a value, another value of the type]: the row is inserted with the other one and updated to the value. */
const CASES: readonly [string, unknown, unknown][] = [
  ['string', 'héllo', 'x'],
  ['int', 42, 1],
  ['float', 1.5, -2],
  ['float', Infinity, 0],
  ['bool', true, false],
  ['timestamp', new Date('2024-01-02T03:04:05.678Z'), new Date(0)],
  ['timestamp', '2024-01-02T03:04:05Z', new Date(0)],
  ['date', '2024-01-02', '1999-12-31'],
  ['json', { a: [1, 'x', null], b: { c: true } }, 1],
  ['json', 'text', [1]],
  ['json', [1, 2], { a: 1 }],
  ['uuid', '123e4567-e89b-12d3-a456-426614174000', '00000000-0000-0000-0000-000000000000'],
  ['binary', new Uint8Array([1, 2, 3, 0, 255]), new Uint8Array([9])],
  ['binary', 'AAEC', new Uint8Array([9])],
  ['binary', new Uint8Array([]), new Uint8Array([9])],
  ['array<float32>[3]', [1.5, 2, 3], [0, 0, 0]],
  ['array<float32>[3]', new Float32Array([1, 2, 3]), [0, 0, 0]],
  ['array<float64>', [1.25, 2], [0]],
  ['array<int8>', [1, -2], [0]],
  ['array<int16>', [1, 2], [0]],
  ['array<int32>[2]', [1, 2], [0, 0]],
  ['array<int64>', [1, 2], [0]],
  ['array<uint8>', [1, 255], [0]],
  ['array<bool>', [true, false], [false]],
  ['array<float32>[2,2]', [[1, 2], [3, 4]], [[0, 0], [0, 0]]],
]

let n = 0
describe('update round-trips every column type as insert does', () => {
  for (const [type, value, other] of CASES) {
    for (const ty of [type, `${type}?`]) {
      test(`${ty}: ${String(value).slice(0, 30)}`, async () => {
        const t = await db.createTable(`uvt${n++}`, { id: 'int', v: ty }, { primaryKey: 'id' })
        await t.insert([{ id: 1, v: value }, { id: 2, v: other }])
        await t.update({ v: value }, { where: t.c.id.eq(2) })
        const rows = (await t.collect()).rows as { id: number; v: unknown }[]
        const inserted = rows.find((r) => r.id === 1)!.v
        expect(rows.find((r) => r.id === 2)!.v).toEqual(inserted)
        // The value can also be set back to null on a nullable column, and to the other value again.
        if (ty.endsWith('?')) {
          await t.update({ v: null }, { where: t.c.id.eq(2) })
          expect(((await t.collect()).rows as { id: number; v: unknown }[]).find((r) => r.id === 2)!.v).toBeNull()
        }
      })
    }
  }

  test('a binary update of many rows (written in steps) stores the bytes in every row', async () => {
    const t = await db.createTable('uvt_many', { id: 'int', b: 'binary' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 1500 }, (_, i) => ({ id: i, b: new Uint8Array([i % 256]) })))
    const status = await t.update({ b: new Uint8Array([7, 8, 9]) }, { where: t.c.id.ge(100) })
    expect(status.numUpdated).toBe(1400)
    const rows = (await t.collect()).rows as { id: number; b: Uint8Array }[]
    for (const r of rows) expect([...r.b]).toEqual(r.id >= 100 ? [7, 8, 9] : [r.id % 256])
  })
})
