import type { ColumnType } from '../../types/index.ts'

// Cell encodings for text formats. JSON Lines keeps JSON types (numbers, booleans, nested json and arrays) and
// writes timestamps as ISO 8601 and bytes as base64; CSV writes the same text, with json and arrays as JSON text
// null as an empty field and the empty string as "" (Postgres COPY's rule), so importing it back gives the same
// values.

export function jsonCell(t: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v)
  if (t.kind === 'float' && typeof v === 'number' && !Number.isFinite(v)) return String(v)
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>)
  return v
}

export function csvCell(t: ColumnType, v: unknown): string {
  const j = jsonCell(t, v)
  if (j === null) return ''
  const s = typeof j === 'string' ? (t.kind === 'json' ? JSON.stringify(j) : j) : typeof j === 'object' ? JSON.stringify(j) : String(j)
  return s === '' || /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s
}

export function csvHeader(names: readonly string[]): string {
  return names.map((n) => (/[",\r\n]/.test(n) ? `"${n.replaceAll('"', '""')}"` : n)).join(',') + '\n'
}
