import * as v from 'valibot'
import type { ColumnType } from '../../types/index.ts'
import { formatType, parseType, valueSchema } from '../../types/index.ts'

// Column types from a sample of rows. Text formats (CSV/TSV) give strings, so each value is classified by what it
// parses as; JSON gives typed values, whose strings are only checked for timestamps, dates and UUIDs (a JSON "123"
// stays a string). The widest kind seen wins (int < float < string). Mixed kinds: CSV text falls back to string
// (any cell is text); JSON values of different kinds (1 then "two", true then 0) widen to json, which holds each
// value as it is — a string column would refuse the number. An integer beyond ±2^53 (CSV digits, or a JSON
// literal the reader kept as a BigInt) makes the column string: a float column would round it silently.

type Kind = 'null' | 'int' | 'float' | 'bool' | 'timestamp' | 'date' | 'uuid' | 'json' | 'string'

const INT_RE = /^[+-]?\d+$/
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const BOOL_WORDS = new Set(['true', 'false'])

// A text is a date or a timestamp only when the column's converter will take it: the type's own check, which
// refuses a day the month lacks (2024-02-30, which Date.parse rolls over into March) and year 0. Inferred from
// Date.parse, such a text made its column a date column that then refused it, failing a valid file.
const DATE_SCHEMA = valueSchema(parseType('date'))
const TIMESTAMP_SCHEMA = valueSchema(parseType('timestamp'))
const isDate = (s: string): boolean => DATE_RE.test(s) && v.is(DATE_SCHEMA, s)
const isTimestamp = (s: string): boolean => TIMESTAMP_RE.test(s) && v.is(TIMESTAMP_SCHEMA, s)

export function classifyText(s: string): Kind {
  if (s === '') return 'null'
  if (INT_RE.test(s)) return Number.isSafeInteger(Number(s)) ? 'int' : 'string'
  if (FLOAT_RE.test(s)) return 'float'
  if (BOOL_WORDS.has(s.toLowerCase())) return 'bool'
  if (isDate(s)) return 'date'
  if (isTimestamp(s)) return 'timestamp'
  if (UUID_RE.test(s)) return 'uuid'
  const c = s[0]
  if (c === '{' || c === '[') {
    try {
      JSON.parse(s)
      return 'json'
    } catch {
      return 'string'
    }
  }
  return 'string'
}

export function classifyValue(x: unknown): Kind {
  if (x === null || x === undefined) return 'null'
  if (typeof x === 'bigint') return Number.isSafeInteger(Number(x)) ? 'int' : 'string'
  if (typeof x === 'number') return Number.isSafeInteger(x) ? 'int' : 'float'
  if (typeof x === 'boolean') return 'bool'
  if (x instanceof Date) return 'timestamp'
  if (typeof x === 'string') {
    if (x === '') return 'string'
    if (isDate(x)) return 'date'
    if (isTimestamp(x)) return 'timestamp'
    if (UUID_RE.test(x)) return 'uuid'
    return 'string'
  }
  return 'json'
}

/** JSON's own kinds of value: two different ones in a column can only both be held as json. */
const TYPED = new Set<Kind>(['int', 'float', 'bool', 'json'])

/** `text`: the values are CSV/TSV cells, where anything mixed is text; else typed values (JSON, Parquet). */
export function widen(a: Kind, b: Kind, text: boolean): Kind {
  if (a === b || b === 'null') return a
  if (a === 'null') return b
  if ((a === 'int' && b === 'float') || (a === 'float' && b === 'int')) return 'float'
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp'
  if (a === 'json' || b === 'json') return 'json'
  // A typed value (number, boolean) with a string, or a number with a boolean: json keeps each as it came.
  // (A string beside strings of other shapes — a date, a UUID — is still a string column.)
  if (!text && (TYPED.has(a) || TYPED.has(b))) return 'json'
  return 'string'
}

/** Accumulates what each column's sampled values look like. */
export class TypeSampler {
  // Maps, not objects: a column named __proto__ (a JSON key like any other) is then an ordinary entry.
  readonly #kinds = new Map<string, Kind>()
  readonly #nulls = new Set<string>()
  readonly #text: boolean

  /** `text`: values are strings from a text format (CSV/TSV) rather than typed values. */
  constructor(text: boolean) {
    this.#text = text
  }

  add(row: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(row)) {
      const k = this.#text && typeof value === 'string' ? classifyText(value) : classifyValue(value)
      if (k === 'null') this.#nulls.add(name)
      this.#kinds.set(name, widen(this.#kinds.get(name) ?? 'null', k, this.#text))
    }
  }

  /**
   * The schema: `columns` in file order; columns missing from some sampled row are nullable; a column with only
   * empty values is a nullable string; `override` replaces inferred types by name.
   */
  schema(columns: readonly string[], seenIn: ReadonlyMap<string, number>, sampled: number, override: Readonly<Record<string, string>> = {}): Record<string, string> {
    // Without a prototype, so a column named __proto__ is written as a key rather than setting the prototype.
    const out: Record<string, string> = Object.create(null)
    for (const name of columns) {
      if (Object.hasOwn(override, name)) {
        out[name] = formatType(parseType(override[name]))
        continue
      }
      const kind = this.#kinds.get(name) ?? 'null'
      const nullable = kind === 'null' || this.#nulls.has(name) || (seenIn.get(name) ?? 0) < sampled
      const t: ColumnType = parseType(kind === 'null' ? 'string' : kind)
      out[name] = formatType({ ...t, nullable })
    }
    return out
  }
}
