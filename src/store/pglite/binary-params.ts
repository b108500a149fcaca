// Parameters sent to Postgres in its binary format instead of text, where that is both faster and exactly what the
// text form would store. A search's query vector is a float4[] parameter (src/index/functions.ts): as text, Postgres
// parses its 384 numbers one by one with float4in, ~0.7-0.9 ms of store time per search in WASM Postgres (BENCHMARKS.md,
// issue 16, fourteenth session); in binary, array_recv copies 4 bytes per element.

/** Postgres's type OIDs: float4 and float4[] (real[]). */
const FLOAT4_OID = 700
export const FLOAT4_ARRAY_OID = 1021

/** Below this many elements the text form is as cheap, and not worth a second path. */
const MIN_ELEMENTS = 16

/**
 * A one-dimensional array of numbers as Postgres's binary float4[] (array_send's layout: dimensions, no null bitmap
 * flag, the element type, then each element's length and big-endian bytes); undefined when the text form must be
 * sent instead: not a flat array of numbers, too short to matter, or holding a value that float4in would refuse (a
 * finite number beyond float4's range, or one that rounds to zero) and the binary form would store silently changed.
 */
export function float4ArrayBinary(value: unknown): Uint8Array | undefined {
  if (!Array.isArray(value) || value.length < MIN_ELEMENTS) return undefined
  const n = value.length
  const bytes = new Uint8Array(20 + n * 8)
  const view = new DataView(bytes.buffer)
  view.setInt32(0, 1) // dimensions
  view.setInt32(4, 0) // no nulls
  view.setInt32(8, FLOAT4_OID)
  view.setInt32(12, n)
  view.setInt32(16, 1) // lower bound
  for (let i = 0, at = 20; i < n; i++, at += 8) {
    const v = value[i]
    if (typeof v !== 'number') return undefined
    const f = Math.fround(v)
    // What float4in would have done with String(v): refuse an overflow or an underflow to zero. -0 is written "0".
    if ((f === Infinity || f === -Infinity) && Number.isFinite(v)) return undefined
    if (f === 0 && v !== 0) return undefined
    view.setInt32(at, 4)
    view.setFloat32(at + 4, f === 0 ? 0 : f)
  }
  return bytes
}
