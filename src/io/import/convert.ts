import * as v from 'valibot'
import type { ColumnType } from '../../types/index.ts'
import { formatType, isMedia, isStorableText, MIN_TIMESTAMP_MS, parseType, timestampTextMs, valueSchema } from '../../types/index.ts'
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

function fromText(t: ColumnType, s: string, name: string): unknown {
  switch (t.kind) {
    case 'int': {
      // Plain digits (the common cell) are read without a regex or a trimmed copy (a third of an import's
      // conversion time went to them, BENCHMARKS.md issue 22 imp); anything else takes the full rule.
      const n = plainInteger(s)
      if (n !== undefined) return n
      if (!/^\s*[+-]?\d+\s*$/.test(s)) throw new ConvertError('expected an integer')
      return beyondSafe(Number(s), s.trim(), name)
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

/**
 * `n`, or a ConvertError when the integer `digits` is beyond ±2^53, where a number is not exact: an int column cannot
 * hold it, and the way out is a text column, which the message names.
 */
function beyondSafe(n: number, digits: string, column: string): number {
  if (Number.isSafeInteger(n)) return n
  throw new ConvertError(`integer ${digits} is beyond ±2^53, which an int column cannot hold exactly (import '${column}' as text into a new table: --type ${column}:string, or schema { ${column}: 'string' })`)
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
  string: (x) => typeof x === 'string' && isStorableText(x),
  int: (x) => Number.isSafeInteger(x),
  float: (x) => typeof x === 'number' && !Number.isNaN(x),
  bool: (x) => typeof x === 'boolean',
}

/**
 * Readers for the common text of plain types, the values the general rule would return for it (CANONICAL's forms,
 * a timestamp Date.parse reads, a day the month lacks excepted); undefined sends the cell to the general rule. Per
 * cell they skip the null and media checks, the type switch and the schema lookups (BENCHMARKS.md, issue 22 impjs).
 */
const FAST_TEXT: Partial<Record<ColumnType['kind'], (s: string) => unknown>> = {
  // Text the store cannot hold (U+0000, a lone surrogate) goes to the general rule, whose schema names what is wrong.
  string: (s) => (isStorableText(s) ? s : undefined),
  int: plainInteger,
  float: (s) => {
    const n = Number(s)
    return n !== 0 && !Number.isNaN(n) ? n : undefined
  },
  bool: (s) => (s === 'true' ? true : s === 'false' ? false : undefined),
  timestamp: (s) => {
    // isoTimestampMs leaves a day the month lacks to this fallback, which refuses it (Date.parse rolls it over); a
    // time before year 1 goes to the general rule, whose schema refuses it.
    const ms = isoTimestampMs(s) ?? timestampTextMs(s)
    return Number.isNaN(ms) || ms < MIN_TIMESTAMP_MS ? undefined : new Date(ms)
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
    else if (text && typeof x === 'string') x = fromText(type, x, name)
    else if (typeof x === 'bigint' && type.kind === 'int') x = beyondSafe(Number(x), String(x), name)
    else if (typeof x === 'bigint' && type.kind === 'float') x = Number(x)
    // An integer too long for a number (Parquet int64, a JSON literal beyond ±2^53) into a text column: its digits.
    else if (typeof x === 'bigint' && type.kind === 'string') x = String(x)
    // JSON and JSON Lines export write a float's infinities (and NaN) as text, JSON having no spelling for them:
    // read back what export writes (NaN then meets the schema's refusal, as a CSV 'NaN' cell does).
    else if (type.kind === 'float' && typeof x === 'string' && Object.hasOwn(NON_FINITE, x)) x = NON_FINITE[x]
    else if (type.kind === 'json' && x instanceof Date) x = x.toISOString()
    if (media && typeof x === 'string' && x !== '' && !isAbsolute(x) && !/^[a-z][a-z0-9+.-]*:/i.test(x)) x = resolve(baseDir!, x)
    if (x === null) {
      if (!type.nullable) throw new ConvertError(`a value is required (type ${formatType(type)})`)
      return null
    }
    // Values already in the form the schema returns unchanged skip valibot (as insert() does for bulk rows).
    if (canonical?.(x)) return x
    // A timestamp text: what the schema's string branch does (Date.parse, then a Date), without its union; a text
    // it refuses (a day the month lacks included) goes on to the schema, which says why.
    if (type.kind === 'timestamp' && typeof x === 'string') {
      const ms = timestampTextMs(x)
      if (ms >= MIN_TIMESTAMP_MS) return new Date(ms)
    }
    let parsed = v.safeParse(schema, x)
    // Parquet reads int64 values as BigInt, in lists and structs too; a json column takes them as numbers where they
    // are exact. Only a refused value is looked through, so other values pay nothing for it.
    if (!parsed.success && type.kind === 'json' && hasBigInt(x, 0)) parsed = v.safeParse(schema, bigIntsToNumbers(x))
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
    ? (raw: unknown): unknown => {
        const ms = typeof raw === 'string' && raw !== '' ? isoTimestampMs(raw) : undefined
        return ms !== undefined && ms >= MIN_TIMESTAMP_MS ? ms : convert(raw)
      }
    : convert
  return { name, type, convert, cell }
}

const NON_FINITE: Record<string, number> = { Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, NaN: Number.NaN }

function hasBigInt(x: unknown, depth: number): boolean {
  if (typeof x === 'bigint') return true
  if (x === null || typeof x !== 'object' || depth > 64) return false
  return Object.values(x).some((e) => hasBigInt(e, depth + 1))
}

/** `x` with its BigInts as numbers; a ConvertError for one beyond ±2^53, which no JSON number holds exactly. */
function bigIntsToNumbers(x: unknown): unknown {
  if (typeof x === 'bigint') {
    const n = Number(x)
    if (!Number.isSafeInteger(n)) throw new ConvertError(`integer ${x} is beyond ±2^53, where JSON numbers are not exact`)
    return n
  }
  if (Array.isArray(x)) return x.map(bigIntsToNumbers)
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, bigIntsToNumbers(e)]))
  }
  return x
}

// Error previews of raw values live in show.ts (bounded for any value); re-exported for existing callers.
export { showValue } from './show.ts'
