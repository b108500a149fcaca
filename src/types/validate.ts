import * as v from 'valibot'
import { calendarDayProblem, readTimestampText, rolledOverDayProblem, timestampRangeProblem } from './civil-days.ts'
import type { ArrayDtype, ColumnType } from './column-type.ts'
import { formatType } from './column-type.ts'
import { isStorableText, textProblem } from './text.ts'

// valibot schemas per column type: they both check and normalise input (a Date for a timestamp, a base64 string
// for binary over JSON), so the store only ever receives canonical values.

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
}

// One transform, not a union of a Date and a string branch: a union words every refusal with its own message, and a
// text naming a day its month lacks ('2026-02-30', which Date.parse rolls over into March) must say so.
const timestampSchema = v.pipe(
  v.unknown(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const x = dataset.value
    let problem: string | undefined = 'expected a Date or an ISO 8601 timestamp string'
    if (x instanceof Date) {
      const ms = x.getTime()
      problem = Number.isNaN(ms) ? 'invalid Date' : timestampRangeProblem(ms)
      if (!problem) return x
    } else if (typeof x === 'string') {
      // Not Date.parse: it reads zone-less text in the server's time zone, and years below 100 as 19xx.
      const ms = readTimestampText(x)
      problem = Number.isNaN(ms) ? problem : rolledOverDayProblem(x, ms) ?? timestampRangeProblem(ms)
      if (!problem) return new Date(ms)
    }
    addIssue({ message: problem })
    return NEVER
  }),
)

const dateSchema = v.union([
  v.pipe(v.string(), v.regex(ISO_DATE, 'expected a date as YYYY-MM-DD'), v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const s = dataset.value
    // Checked here, not by the store: its "date/time field value out of range" named no row or column. Year 0 is
    // refused too: the store has none (1 BC precedes 1 AD), and a binary COPY stored it as '0001-01-01 BC'.
    const y = Number(s.slice(0, 4))
    const problem = y === 0 ? 'not a supported date (year 0000; dates start at 0001-01-01)' : calendarDayProblem(y, Number(s.slice(5, 7)), Number(s.slice(8, 10)))
    if (problem) addIssue({ message: problem })
  })),
  v.pipe(
    v.date(),
    // Years 1 to 9999, as the text form: toISOString() writes others as '-000001-…' or '+010000-…', not a date.
    v.check((d) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999, 'expected a Date within years 0001 to 9999 (UTC)'),
    v.transform((d) => d.toISOString().slice(0, 10)),
  ),
], 'expected a date as YYYY-MM-DD')

const jsonSchema = v.pipe(
  v.unknown(),
  v.rawCheck(({ dataset, addIssue }) => {
    const x = dataset.value
    if (x === undefined) addIssue({ message: JSON_EXPECTED })
    else if (!isJsonValue(x, 0)) addIssue({ message: jsonProblem(x, 0) ?? JSON_EXPECTED })
  }),
)

const binarySchema = v.union([
  v.instance(Uint8Array),
  v.pipe(v.string(), v.base64('expected base64 text'), v.transform((s) => new Uint8Array(Buffer.from(s, 'base64')))),
], 'expected bytes (Uint8Array, or base64 text over JSON)')

const JSON_EXPECTED = 'expected a JSON value (objects, arrays, strings, finite numbers, booleans, null)'
/** How deep json cells may nest: checking and storing them recurses, so a cell cannot be made to exhaust the stack. */
const MAX_JSON_DEPTH = 64

/**
 * True for a JSON value the store holds: jsonb has no U+0000 and no lone surrogate, in a string or a key. On the
 * insert path (every json cell): indexed loops over Object.keys, no per-entry arrays (Object.entries doubled a scalar
 * insert's validation time).
 */
function isJsonValue(x: unknown, depth: number): boolean {
  if (typeof x === 'string') return isStorableText(x)
  if (typeof x === 'number') return Number.isFinite(x)
  if (x === null || typeof x === 'boolean') return true
  if (typeof x !== 'object' || depth > MAX_JSON_DEPTH) return false
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) if (!isJsonValue(x[i], depth + 1)) return false
    return true
  }
  const proto = Object.getPrototypeOf(x)
  if (proto !== Object.prototype && proto !== null) return false
  const keys = Object.keys(x)
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    if (!isStorableText(k) || !isJsonValue((x as Record<string, unknown>)[k], depth + 1)) return false
  }
  return true
}

/** For a value isJsonValue refuses: what in it is text the store cannot hold, or undefined for another problem. */
function jsonProblem(x: unknown, depth: number): string | undefined {
  if (typeof x === 'string') return isStorableText(x) ? undefined : `a string in it ${textProblem(x)}`
  if (x !== null && typeof x === 'object' && depth > MAX_JSON_DEPTH) return `expected a JSON value nested at most ${MAX_JSON_DEPTH} levels deep (objects and arrays within each other; this one goes deeper)`
  if (x === null || typeof x !== 'object') return undefined
  for (const [k, e] of Object.entries(x)) {
    if (!isStorableText(k)) return `a key in it ${textProblem(k)}`
    const p = jsonProblem(e, depth + 1)
    if (p) return p
  }
  return undefined
}

/** Storable text, else the issue naming what is wrong with it (string and media columns). */
const storableText = v.rawCheck<string>(({ dataset, addIssue }) => {
  if (dataset.typed && !isStorableText(dataset.value)) addIssue({ message: textProblem(dataset.value)! })
})

const FLOAT32_MAX = 3.4028234663852886e38

/**
 * Why array element `e` does not fit `dtype`, or undefined when it does. Float elements must be finite: JSON (HTTP
 * answers, JSON Lines export) has no spelling for an infinity or NaN inside an array (they came back as null), and
 * one such element in a vector made every similarity search on its index fail. A float32 element must also be within
 * float32 range: the store refused 1e39 (or 1e-50, which rounds to 0) as "out of range for type real", naming no row
 * (the binary COPY path stored Infinity or 0 instead). BigInt elements (Parquet's int64 lists, a BigInt64Array) are
 * taken as numbers where they are exact.
 */
function elementProblem(dtype: ArrayDtype, e: unknown): string | undefined {
  if (dtype === 'bool') return typeof e === 'boolean' ? undefined : `bad array element ${showElement(e)}`
  const n = typeof e === 'bigint' ? Number(e) : e
  if (typeof n !== 'number') return `bad array element ${showElement(e)}`
  if (typeof e === 'bigint' && !Number.isSafeInteger(n)) return `array element ${e} is beyond ±2^53, where integers are not exact`
  if (dtype === 'float32') {
    const f = Math.fround(n)
    if (f - f === 0 && (f !== 0 || n === 0)) return undefined
  } else if (dtype === 'float64') {
    if (n - n === 0) return undefined
  } else {
    const [lo, hi] = INT_RANGE[dtype]!
    return Number.isInteger(n) && n >= lo && n <= hi ? undefined : `bad array element ${showElement(e)}`
  }
  if (Number.isNaN(n)) return 'array element NaN is not a storable number'
  if (!Number.isFinite(n)) return `array element ${n}: array elements must be finite numbers`
  return Math.abs(n) > FLOAT32_MAX
    ? `array element ${n} is beyond float32 range (±${FLOAT32_MAX.toPrecision(8)})`
    : `array element ${n} is below float32 range (it would round to 0; the smallest is ±1.4e-45)`
}

/**
 * The common case of elementProblem, for the loop over a vector's elements: true for a number element that fits (no
 * BigInt, no message). A vector insert validates hundreds of elements a row; this keeps that loop tight.
 */
function elementFits(dtype: ArrayDtype): (e: unknown) => boolean {
  if (dtype === 'float32') return (e) => {
    if (typeof e !== 'number') return false
    const f = Math.fround(e)
    return f - f === 0 && (f !== 0 || e === 0)
  }
  if (dtype === 'float64') return (e) => typeof e === 'number' && e - e === 0
  if (dtype === 'bool') return (e) => typeof e === 'boolean'
  const [lo, hi] = INT_RANGE[dtype]!
  return (e) => typeof e === 'number' && Number.isInteger(e) && e >= lo && e <= hi
}

/** An element for a message: numbers as JavaScript writes them (NaN, Infinity), BigInt-safe, at most 40 characters. */
function showElement(x: unknown): string {
  if (typeof x === 'number' || typeof x === 'bigint' || x === undefined) return String(x)
  const s = JSON.stringify(x, (_k, e: unknown) => (typeof e === 'bigint' ? String(e) : e)) ?? String(x)
  return s.length > 40 ? s.slice(0, 40) + '…' : s
}

function arraySchema(t: ColumnType) {
  const dtype = t.dtype ?? 'float32'
  const fits = elementFits(dtype)
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const x = ArrayBuffer.isView(dataset.value) && !(dataset.value instanceof DataView) ? Array.from(dataset.value as unknown as ArrayLike<number>) : dataset.value
      const found = { bigint: false }
      const problem = Array.isArray(x) ? checkArray(x, shapeOf(x, t.shape), 0, dtype, fits, found) : 'expected an array'
      if (problem) {
        // Each caller words the error with the column's type ('… for type array<float32>[3]').
        addIssue({ message: problem })
        return NEVER
      }
      return found.bigint ? withNumbers(x) : x
    }),
  )
}

/** A dimension whose length the column leaves free: the length of the array's first element at that depth. */
interface Free {
  readonly free: number
}

/**
 * The shape `x` must have: the column's, with each free dimension (a '?', or every one where the column fixes no shape)
 * taking the length of x's first element at that depth. PostgreSQL's arrays are rectangular; a ragged one
 * ([[1], [1, 2]]) failed in the store ("malformed JSON array"), naming no row or column.
 */
function shapeOf(x: unknown[], shape: readonly (number | null)[] | undefined): readonly (number | Free | null)[] {
  if (shape && !shape.includes(null)) return shape
  const first: number[] = []
  for (let e: unknown = x; Array.isArray(e); e = e[0]) first.push(e.length)
  if (!shape) return first.map((free) => ({ free }))
  // Null where x's first elements do not reach the depth: checkArray then says what is there instead of an array.
  return shape.map((d, i) => d ?? (first[i] === undefined ? null : { free: first[i]! }))
}

function checkArray(
  x: unknown, shape: readonly (number | Free | null)[], dim: number, dtype: ArrayDtype, fits: (e: unknown) => boolean, found: { bigint: boolean },
): string | undefined {
  if (dim === shape.length) {
    if (fits(x)) return undefined
    if (typeof x === 'bigint') found.bigint = true
    return elementProblem(dtype, x)
  }
  if (!Array.isArray(x)) return 'expected an array'
  const want = shape[dim]
  if (typeof want === 'number' && x.length !== want) return `dimension ${dim} has length ${x.length}, expected ${want}`
  if (want !== null && typeof want === 'object' && x.length !== want.free) {
    return `dimension ${dim} has length ${x.length} here and ${want.free} in the first element (arrays are rectangular)`
  }
  if (dim === shape.length - 1) {
    // The innermost dimension (a vector's elements): the common case checked in the loop, without a call per element.
    for (let i = 0; i < x.length; i++) {
      const e = x[i]
      if (fits(e)) continue
      if (typeof e === 'bigint') found.bigint = true
      const p = elementProblem(dtype, e)
      if (p) return p
    }
    return undefined
  }
  for (const e of x) {
    const p = checkArray(e, shape, dim + 1, dtype, fits, found)
    if (p) return p
  }
  return undefined
}

/** A checked array with its BigInt elements (all exact, see elementProblem) as numbers. */
const withNumbers = (x: unknown): unknown => (Array.isArray(x) ? x.map(withNumbers) : typeof x === 'bigint' ? Number(x) : x)

// Bytes (uploads) are accepted here and stored by the media pass (src/media/rows.ts), which returns their ref.
const mediaSchema = v.union([
  v.pipe(v.string(), v.minLength(1, 'empty media reference'), storableText),
  v.instance(Uint8Array),
], 'expected a path, file:// or http(s) URL, data: URL, or bytes')

function baseSchema(t: ColumnType): v.GenericSchema<unknown, unknown> {
  switch (t.kind) {
    case 'string': return v.pipe(v.string('expected a string'), storableText)
    case 'int': return v.pipe(
      v.union([v.number(), v.bigint()], 'expected an integer'),
      v.transform((n) => Number(n)),
      v.check((n) => Number.isSafeInteger(n), 'expected an integer within ±2^53'),
    )
    case 'float': return v.pipe(
      // valibot's number() refuses NaN with the type's own message ("expected a number, got number"): say what it is.
      v.union([v.number(), v.bigint(), v.custom<number>((x) => typeof x === 'number' && Number.isNaN(x), 'NaN')], 'expected a number'),
      v.check((n) => !(typeof n === 'number' && Number.isNaN(n)), 'NaN is not a storable number (use null for a missing value)'),
      v.transform((n) => Number(n)),
    )
    case 'bool': return v.boolean('expected true or false')
    case 'timestamp': return timestampSchema
    case 'date': return dateSchema
    case 'json': return jsonSchema
    case 'uuid': return v.pipe(v.string('expected a UUID string'), v.uuid('expected a UUID string'))
    case 'binary': return binarySchema
    case 'array': return arraySchema(t)
    case 'image': case 'video': case 'audio': case 'document': return mediaSchema
  }
}

const cache = new Map<string, v.GenericSchema<unknown, unknown>>()

/** The valibot schema for one column's values; null/undefined are accepted only for nullable types. */
export function valueSchema(t: ColumnType): v.GenericSchema<unknown, unknown> {
  const key = formatType(t)
  let s = cache.get(key)
  if (!s) {
    const base = baseSchema(t)
    s = t.nullable ? v.nullish(base, null) as v.GenericSchema<unknown, unknown> : base
    cache.set(key, s)
  }
  return s
}
