// COPY's binary format, read: the payload of COPY (select) TO (Queryable.copyBinaryTo), as positions of each row's
// fields in the bytes, so a reader decodes only what it needs, where it lies (copy-binary.ts writes the format).

/** The 11-byte signature every binary COPY payload starts with ("PGCOPY\n\xff\r\n\0"). */
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]

/** One row's fields: where each starts in the payload and how many bytes it has (-1: NULL). Refilled per row. */
export interface CopyRowFields {
  readonly count: number
  readonly at: Int32Array
  readonly length: Int32Array
}

/**
 * Calls `row` for each row of a binary COPY payload of rows of `fields` fields, with the DataView over the payload and
 * the fields' positions (the same arrays each time: read them before returning). Throws on a payload that is not
 * one: a wrong signature, a row of another width, a field past the end, no trailer.
 */
export function forEachCopyRow(payload: Uint8Array, fields: number, row: (view: DataView, f: CopyRowFields) => void): number {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const bad = (why: string): never => {
    throw new Error(`malformed binary COPY payload: ${why}`)
  }
  if (payload.byteLength < 19 || SIGNATURE.some((b, i) => payload[i] !== b)) bad('no signature')
  let at = 19 + view.getInt32(15)
  const f = { count: fields, at: new Int32Array(fields), length: new Int32Array(fields) }
  let rows = 0
  for (;;) {
    if (at + 2 > payload.byteLength) bad('no trailer')
    const width = view.getInt16(at)
    at += 2
    if (width === -1) return rows
    if (width !== fields) bad(`a row of ${width} fields where ${fields} were expected`)
    for (let i = 0; i < fields; i++) {
      if (at + 4 > payload.byteLength) bad('a field past the end')
      const length = view.getInt32(at)
      at += 4
      f.at[i] = at
      f.length[i] = length
      if (length > 0) at += length
      if (at > payload.byteLength) bad('a field past the end')
    }
    row(view, f)
    rows++
  }
}

/** Whether this machine's typed arrays are little-endian (COPY's numbers are big-endian). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Copies `count` big-endian float4s from `payload` at byte `from` into `out` at element `to`, as bytes; they are in
 * the machine's order only after swapFloat4s over `out` (one pass over a whole page: a DataView read per float
 * cost ~10 ns each, 0.4 s of the serving thread for 100,000 vectors of 384).
 */
export function copyFloat4Bytes(payload: Uint8Array, from: number, count: number, out: Float32Array, to: number): void {
  new Uint8Array(out.buffer, out.byteOffset + to * 4, count * 4).set(payload.subarray(from, from + count * 4))
}

/** Puts floats copied by copyFloat4Bytes (big-endian) in the machine's byte order, in place. */
export function swapFloat4s(out: Float32Array, count = out.length): void {
  if (!LITTLE_ENDIAN) return
  const u = new Uint32Array(out.buffer, out.byteOffset, count)
  for (let i = 0; i < count; i++) {
    const x = u[i]!
    u[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)
  }
}
