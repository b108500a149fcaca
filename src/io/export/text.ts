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

/** JSON.rawJSON (Bun, V8): JSON.stringify writes its text as it is. Not in TypeScript's lib yet. */
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON

/**
 * A JSON.stringify replacer for every text export. A finite number that is an integer beyond ±2^53 (1e20, a float
 * insert() takes, exact as a double) written as its digits alone (100000000000000000000) reads back as an integer
 * literal too big to be exact, which an import refuses (int and json columns) or infers as text. In exponent form
 * (1e+20, the shortest that reads back as the same double) it reads back as the number it is, in a json value too.
 */
export function exactNumbers(_key: string, v: unknown): unknown {
  return typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) ? rawJson(v.toExponential()) : v
}

/** A JSON Lines line: the cells of one row, keyed by column name. */
export function jsonLine(columns: readonly { name: string; type: ColumnType }[], row: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, jsonCell(c.type, row[c.name])])), exactNumbers)
}

export function csvCell(t: ColumnType, v: unknown): string {
  const j = jsonCell(t, v)
  if (j === null) return ''
  const s = typeof j === 'string' ? (t.kind === 'json' ? JSON.stringify(j) : j) : typeof j === 'object' || typeof j === 'number' ? JSON.stringify(j, exactNumbers) : String(j)
  return s === '' || /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s
}

export function csvHeader(names: readonly string[]): string {
  return names.map((n) => (/[",\r\n]/.test(n) ? `"${n.replaceAll('"', '""')}"` : n)).join(',') + '\n'
}
