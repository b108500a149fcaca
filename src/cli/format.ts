import { out } from './command.ts'
import { UsageError } from './command.ts'

// Output of listings: aligned text columns for people (like psql), or --json for programs.

function cell(value: unknown, width: number): string {
  let s: string
  if (value === null || value === undefined) s = ''
  else if (value instanceof Date) s = value.toISOString()
  else if (value instanceof Uint8Array) s = `<${value.byteLength} bytes>`
  else if (typeof value === 'object') s = JSON.stringify(value)
  else s = String(value)
  s = s.replace(/\s+/g, ' ')
  return s.length > width ? `${s.slice(0, width - 1)}…` : s
}

/** Prints rows as aligned columns with a header; long cells are cut at `maxWidth` characters. */
export function printRows(rows: readonly Record<string, unknown>[], columns: readonly string[] = Object.keys(rows[0] ?? {}), maxWidth = 60): void {
  const cells = rows.map((r) => columns.map((c) => cell(r[c], maxWidth)))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)))
  const line = (parts: readonly string[]) => parts.map((p, i) => p.padEnd(widths[i]!)).join('  ').trimEnd()
  out(line(columns))
  out(line(widths.map((w) => '-'.repeat(w))))
  for (const row of cells) out(line(row))
}

function base64(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

/** JSON as the HTTP API writes it: bytes as base64, dates as ISO strings. */
export function toJsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? base64(v) : v), indent)
}

export function printJson(value: unknown): void {
  out(toJsonText(value, 2))
}

/** Parses a JSON option, naming the option when it is not valid JSON. */
export function parseJsonOption(name: string, text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new UsageError(`${name} is not valid JSON (${(e as Error).message}); write it in single quotes for the shell, e.g. '{"where": {"fn": "gt", "args": [{"col": "id"}, {"lit": 0}]}}'`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${name} must be a JSON object, got ${JSON.stringify(value)}`)
  return value as Record<string, unknown>
}

/** Parses a whole-number option within bounds. */
export function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got '${text}'`)
  return n
}
