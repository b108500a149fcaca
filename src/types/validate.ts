import * as v from 'valibot'
import type { ColumnType } from './column-type.ts'
import { formatType } from './column-type.ts'

// valibot schemas per column type: they both check and normalise input (a Date for a timestamp, a base64 string
// for binary over JSON), so the store only ever receives canonical values.

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
}

const timestampSchema = v.union([
  v.pipe(v.date(), v.check((d) => !Number.isNaN(d.getTime()), 'invalid Date')),
  v.pipe(
    v.string(),
    v.check((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 timestamp'),
    v.transform((s) => new Date(s)),
  ),
], 'expected a Date or an ISO 8601 timestamp string')

const dateSchema = v.union([
  v.pipe(v.string(), v.regex(ISO_DATE, 'expected a date as YYYY-MM-DD'), v.check((s) => !Number.isNaN(Date.parse(s)), 'not a calendar date')),
  v.pipe(v.date(), v.transform((d) => d.toISOString().slice(0, 10))),
], 'expected a date as YYYY-MM-DD')

const jsonSchema = v.pipe(
  v.unknown(),
  v.check((x) => x !== undefined && isJsonValue(x, 0), 'expected a JSON value (objects, arrays, strings, finite numbers, booleans, null)'),
)

const binarySchema = v.union([
  v.instance(Uint8Array),
  v.pipe(v.string(), v.base64('expected base64 text'), v.transform((s) => new Uint8Array(Buffer.from(s, 'base64')))),
], 'expected bytes (Uint8Array, or base64 text over JSON)')

function isJsonValue(x: unknown, depth: number): boolean {
  if (depth > 64) return false
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return true
  if (typeof x === 'number') return Number.isFinite(x)
  if (Array.isArray(x)) return x.every((e) => isJsonValue(e, depth + 1))
  if (typeof x === 'object') {
    const proto = Object.getPrototypeOf(x)
    if (proto !== Object.prototype && proto !== null) return false
    return Object.values(x as object).every((e) => isJsonValue(e, depth + 1))
  }
  return false
}

function arraySchema(t: ColumnType) {
  const dtype = t.dtype ?? 'float32'
  const elementOk = (e: unknown): boolean => {
    if (dtype === 'bool') return typeof e === 'boolean'
    if (typeof e !== 'number') return false
    if (dtype.startsWith('float')) return true
    const [lo, hi] = INT_RANGE[dtype]!
    return Number.isInteger(e) && e >= lo && e <= hi
  }
  return v.pipe(
    v.unknown(),
    v.transform((x) => (ArrayBuffer.isView(x) && !(x instanceof DataView) ? Array.from(x as unknown as ArrayLike<number>) : x)),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return
      const problem = checkArray(dataset.value, t.shape, 0, elementOk)
      if (problem) addIssue({ message: `${problem} (column type ${formatType(t)})` })
    }),
  )
}

function checkArray(x: unknown, shape: readonly (number | null)[] | undefined, dim: number, elementOk: (e: unknown) => boolean): string | undefined {
  if (shape && dim === shape.length) return elementOk(x) ? undefined : `bad array element ${JSON.stringify(x)}`
  if (!Array.isArray(x)) {
    if (!shape && dim > 0) return elementOk(x) ? undefined : `bad array element ${JSON.stringify(x)}`
    return 'expected an array'
  }
  const want = shape?.[dim]
  if (want != null && x.length !== want) return `dimension ${dim} has length ${x.length}, expected ${want}`
  for (const e of x) {
    const p = checkArray(e, shape, dim + 1, elementOk)
    if (p) return p
  }
  return undefined
}

// Bytes (uploads) are accepted here and stored by the media pass (src/media/rows.ts), which returns their ref.
const mediaSchema = v.union([
  v.pipe(v.string(), v.minLength(1, 'empty media reference')),
  v.instance(Uint8Array),
], 'expected a path, file:// or http(s) URL, data: URL, or bytes')

function baseSchema(t: ColumnType): v.GenericSchema<unknown, unknown> {
  switch (t.kind) {
    case 'string': return v.string('expected a string')
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
