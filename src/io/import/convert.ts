import * as v from 'valibot'
import type { ColumnType } from '../../types/index.ts'
import { formatType, isMedia, parseType, valueSchema } from '../../types/index.ts'
import { isAbsolute, resolve } from 'node:path'
import { isoTimestampMs } from './timestamp-text.ts'

// Raw file values → the values Table.insert takes. Text cells (CSV/TSV) are parsed per column type first (numbers,
// booleans, JSON for json/array columns); then the column type's own valibot schema checks and normalises them, so
// an import accepts exactly what insert() accepts and the error names the same rule.

export interface ColumnConverter {
  readonly name: string
  readonly type: ColumnType
  /** The value to insert, or throws a ConvertError saying what is wrong with it. */
  convert(raw: unknown): unknown
  /**
   * As convert(), for a load that takes cells (BulkLoad.prepareCells), not rows for insert(): a timestamp may come
   * back as its milliseconds since the epoch (a number) instead of a Date, which that load only reads the time of.
   */
  cell(raw: unknown): unknown
}

export class ConvertError extends Error {}

const TEXT_KINDS = new Set(['string', 'binary', 'json'])
const TRUE = new Set(['true', 't', 'yes', 'y', '1'])
const FALSE = new Set(['false', 'f', 'no', 'n', '0'])

function fromText(t: ColumnType, s: string): unknown {
  switch (t.kind) {
    case 'int': {
      // Plain digits (the common cell) are read without a regex or a trimmed copy (a third of an import's
      // conversion time went to them, BENCHMARKS.md issue 22 imp); anything else takes the full rule.
      const n = plainInteger(s)
      if (n !== undefined) return n
      if (!/^\s*[+-]?\d+\s*$/.test(s)) throw new ConvertError('expected an integer')
      return Number(s)
    }
    case 'float': {
      const n = Number(s)
      // Number('') and Number('  ') are 0: only a zero or a NaN needs a look at the text.
      if (n !== 0 && !Number.isNaN(n)) return n
      if (s.trim() === '' || (Number.isNaN(n) && s.trim() !== 'NaN')) throw new ConvertError('expected a number')
      return n
    }
    case 'bool': {
      if (s === 'true') return true
      if (s === 'false') return false
      const w = s.trim().toLowerCase()
      if (TRUE.has(w)) return true
      if (FALSE.has(w)) return false
      throw new ConvertError('expected true or false')
    }
    case 'json': case 'array': {
      try {
        return JSON.parse(s)
      } catch {
        // A json column also takes plain text (a CSV cell `hello` is the JSON string "hello").
        if (t.kind === 'json') return s
        throw new ConvertError('expected a JSON array')
      }
    }
    default: return s
  }
}

/** An optional '-' then 1 to 15 digits, as a number (exact below 2^53); undefined for any other text. */
function plainInteger(s: string): number | undefined {
  const n = s.length
  let i = s.charCodeAt(0) === 45 ? 1 : 0
  if (n === i || n - i > 15) return undefined
  let v = 0
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return undefined
    v = v * 10 + d
  }
  return s.charCodeAt(0) === 45 ? -v : v
}

// Mirrors src/catalog/validate-rows.ts: values these accept pass their valibot schema unchanged.
const CANONICAL: Partial<Record<ColumnType['kind'], (x: unknown) => boolean>> = {
  string: (x) => typeof x === 'string',
  int: (x) => Number.isSafeInteger(x),
  float: (x) => typeof x === 'number' && !Number.isNaN(x),
  bool: (x) => typeof x === 'boolean',
}

/**
 * Readers for the common text of plain types, the values the general rule would return for it (CANONICAL's forms,
 * a timestamp Date.parse reads); undefined sends the cell to the general rule. Per cell they skip the null and
 * media checks, the type switch and the schema lookups (BENCHMARKS.md, issue 22 impjs).
 */
const FAST_TEXT: Partial<Record<ColumnType['kind'], (s: string) => unknown>> = {
  string: (s) => s,
  int: plainInteger,
  float: (s) => {
    const n = Number(s)
    return n !== 0 && !Number.isNaN(n) ? n : undefined
  },
  bool: (s) => (s === 'true' ? true : s === 'false' ? false : undefined),
  timestamp: (s) => {
    const ms = isoTimestampMs(s) ?? Date.parse(s)
    return Number.isNaN(ms) ? undefined : new Date(ms)
  },
}

export function converter(name: string, typeSpec: string, text: boolean, baseDir?: string): ColumnConverter {
  const type = parseType(typeSpec)
  const schema = valueSchema(type)
  // A media path written relative to the input file (an export with copied media) means relative to that file.
  const media = isMedia(type) && baseDir !== undefined
  const canonical = CANONICAL[type.kind]
  function general(raw: unknown): unknown {
    let x = raw
    // A missing field is null; an empty text cell is null unless the column holds text ('""' in CSV).
    if (x === undefined || (text && x === '' && !TEXT_KINDS.has(type.kind))) x = null
    else if (text && typeof x === 'string') x = fromText(type, x)
    else if (type.kind === 'int' && typeof x === 'bigint') x = Number(x)
    else if (type.kind === 'json' && x instanceof Date) x = x.toISOString()
    if (media && typeof x === 'string' && x !== '' && !isAbsolute(x) && !/^[a-z][a-z0-9+.-]*:/i.test(x)) x = resolve(baseDir!, x)
    if (x === null) {
      if (!type.nullable) throw new ConvertError(`a value is required (type ${formatType(type)})`)
      return null
    }
    // Values already in the form the schema returns unchanged skip valibot (as insert() does for bulk rows).
    if (canonical?.(x)) return x
    // A timestamp text: what the schema's string branch does (Date.parse, then a Date), without its union.
    if (type.kind === 'timestamp' && typeof x === 'string') {
      const ms = Date.parse(x)
      if (!Number.isNaN(ms)) return new Date(ms)
    }
    const parsed = v.safeParse(schema, x)
    if (!parsed.success) throw new ConvertError(`${parsed.issues[0].message} for type ${formatType(type)}`)
    return parsed.output
  }
  // A text cell of a plain type in its common form is read straight into its value; anything else (null, empty,
  // a form the fast reader does not know) takes the general rule, which names what is wrong.
  const fast = text && !media ? FAST_TEXT[type.kind] : undefined
  const convert = fast
    ? (raw: unknown): unknown => {
        if (typeof raw === 'string' && raw !== '') {
          const x = fast(raw)
          if (x !== undefined) return x
        }
        return general(raw)
      }
    : general
  // A timestamp cell in the common ISO form needs no Date at all on the cell path (one per cell showed in the profile).
  const cell = fast && type.kind === 'timestamp'
    ? (raw: unknown): unknown => (typeof raw === 'string' && raw !== '' ? isoTimestampMs(raw) : undefined) ?? convert(raw)
    : convert
  return { name, type, convert, cell }
}

/** A raw value shortened for an error message. */
export function showValue(x: unknown): string {
  if (x === null || x === undefined) return String(x)
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)
  if (typeof x === 'bigint') return String(x)
  if (x instanceof Uint8Array) return `<${x.length} bytes>`
  const s = JSON.stringify(x) ?? String(x)
  return s.length > 40 ? s.slice(0, 40) + '…' : s
}
