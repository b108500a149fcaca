import { expect, test } from 'bun:test'
import { CopyBinaryWriter } from '../../src/catalog/data-table/copy-binary.ts'
import { copyFloat4Bytes, forEachCopyRow, swapFloat4s } from '../../src/catalog/data-table/copy-binary-read.ts'

// COPY's binary format read back (what COPY (select) TO returns on PGlite): each row's fields where they lie, NULLs
// as -1, big-endian floats put in the machine's order, and a payload that is not one refused with a reason.

/** Every row's fields as [start, length] pairs. */
function fieldsOf(payload: Uint8Array, width: number): number[][][] {
  const rows: number[][][] = []
  forEachCopyRow(payload, width, (_view, f) => rows.push(Array.from({ length: f.count }, (_, i) => [f.at[i]!, f.length[i]!])))
  return rows
}

test('rows are read as the writer wrote them: field positions, lengths and NULLs', () => {
  const w = new CopyBinaryWriter()
  w.row(2)
  w.int64(7)
  w.int32(-3)
  w.row(2)
  w.null()
  w.bytes(new Uint8Array([1, 2, 3]))
  const payload = w.finish()
  const rows = fieldsOf(payload, 2)
  expect(rows.map((r) => r.map(([, length]) => length))).toEqual([[8, 4], [-1, 3]])
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  expect(Number(view.getBigInt64(rows[0]![0]![0]!))).toBe(7)
  expect(view.getInt32(rows[0]![1]![0]!)).toBe(-3)
  expect([...payload.subarray(rows[1]![1]![0]!, rows[1]![1]![0]! + 3)]).toEqual([1, 2, 3])
  expect(forEachCopyRow(new CopyBinaryWriter().finish(), 2, () => undefined)).toBe(0)
})

test('a payload that is not binary COPY output is refused, naming what is wrong', () => {
  const w = new CopyBinaryWriter()
  w.row(2)
  w.int32(1)
  w.int32(2)
  const payload = w.finish()
  expect(() => forEachCopyRow(new TextEncoder().encode('1,2\n'), 2, () => undefined)).toThrow('no signature')
  expect(() => forEachCopyRow(payload, 3, () => undefined)).toThrow('a row of 2 fields where 3 were expected')
  expect(() => forEachCopyRow(payload.subarray(0, payload.length - 2), 2, () => undefined)).toThrow('no trailer')
  expect(() => forEachCopyRow(payload.subarray(0, payload.length - 5), 2, () => undefined)).toThrow('a field past the end')
})

test('big-endian float4s come out as the floats sent, special values included', () => {
  const values = [0.5, -1, Math.fround(Math.PI), 1e-40, -0, Infinity, -Infinity, Math.fround(3.4e38)]
  const bytes = new Uint8Array(3 + values.length * 4)
  const view = new DataView(bytes.buffer)
  values.forEach((v, i) => view.setFloat32(3 + i * 4, v))
  const out = new Float32Array(values.length + 2)
  copyFloat4Bytes(bytes, 3, values.length, out, 2)
  swapFloat4s(out.subarray(2))
  expect([...out.subarray(2)]).toEqual(values.map(Math.fround))
  expect(Object.is(out[6], -0)).toBe(true)
  // NaN survives as NaN.
  view.setFloat32(3, NaN)
  copyFloat4Bytes(bytes, 3, 1, out, 0)
  swapFloat4s(out.subarray(0, 1))
  expect(Number.isNaN(out[0]!)).toBe(true)
})
