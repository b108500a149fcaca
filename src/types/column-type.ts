import { invalid } from '../errors.ts'

// Column types travel as strings ('int', 'image?', 'array<float32>[384]') in the library, the HTTP API and the
// catalog; this module is the one parser/printer, so every layer agrees on the spelling.

export const SCALAR_KINDS = ['string', 'int', 'float', 'bool', 'timestamp', 'date', 'json', 'uuid', 'binary'] as const
export const MEDIA_KINDS = ['image', 'video', 'audio', 'document'] as const
export const ARRAY_DTYPES = ['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool'] as const

export type ScalarKind = (typeof SCALAR_KINDS)[number]
export type MediaKind = (typeof MEDIA_KINDS)[number]
export type ArrayDtype = (typeof ARRAY_DTYPES)[number]
export type TypeKind = ScalarKind | MediaKind | 'array'

export interface ColumnType {
  readonly kind: TypeKind
  readonly nullable: boolean
  /** Arrays only: element type. */
  readonly dtype?: ArrayDtype
  /** Arrays only: fixed dimensions, null for a free dimension; undefined when the shape is not fixed at all. */
  readonly shape?: readonly (number | null)[]
}

const ALIASES: Record<string, TypeKind> = {
  string: 'string', str: 'string', text: 'string',
  int: 'int', integer: 'int', int64: 'int', bigint: 'int',
  float: 'float', float64: 'float', double: 'float', number: 'float',
  bool: 'bool', boolean: 'bool',
  timestamp: 'timestamp', datetime: 'timestamp',
  date: 'date', json: 'json', uuid: 'uuid', binary: 'binary', bytes: 'binary',
  image: 'image', video: 'video', audio: 'audio', document: 'document',
}

const ARRAY_RE = /^array(?:<\s*([a-z0-9]+)\s*>)?(?:\[\s*([0-9?,\s]*)\s*\])?$/

export function parseType(spec: string | ColumnType): ColumnType {
  if (typeof spec !== 'string') return spec
  let s = spec.trim().toLowerCase()
  let nullable = false
  if (s.endsWith('?')) {
    nullable = true
    s = s.slice(0, -1).trim()
  }
  const kind = Object.hasOwn(ALIASES, s) ? ALIASES[s] : undefined // own keys only: '__proto__' is not a type
  if (kind) return Object.freeze({ kind, nullable })
  const m = ARRAY_RE.exec(s)
  if (m) {
    const dtype = (m[1] ?? 'float32') as ArrayDtype
    if (!ARRAY_DTYPES.includes(dtype)) {
      throw invalid('INVALID_TYPE', `unknown array element type '${m[1]}' in '${spec}'; use one of ${ARRAY_DTYPES.join(', ')}`)
    }
    let shape: (number | null)[] | undefined
    if (m[2] !== undefined) {
      shape = m[2].split(',').map((d) => d.trim()).filter((d) => d !== '').map((d) => {
        if (d === '?') return null
        const n = Number(d)
        if (!Number.isInteger(n) || n <= 0) throw invalid('INVALID_TYPE', `bad array dimension '${d}' in '${spec}'`)
        return n
      })
      if (shape.length === 0) throw invalid('INVALID_TYPE', `array shape in '${spec}' has no dimensions`)
    }
    return Object.freeze(shape ? { kind: 'array', nullable, dtype, shape: Object.freeze(shape) } : { kind: 'array', nullable, dtype })
  }
  throw invalid(
    'INVALID_TYPE',
    `unknown column type '${spec}'; expected one of ${[...SCALAR_KINDS, ...MEDIA_KINDS].join(', ')}, or array<dtype>[dims], with '?' for nullable`,
  )
}

export function formatType(t: ColumnType): string {
  let base: string = t.kind
  if (t.kind === 'array') {
    base = `array<${t.dtype ?? 'float32'}>`
    if (t.shape) base += `[${t.shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`
  }
  return t.nullable ? `${base}?` : base
}

export const isMedia = (t: ColumnType): boolean => (MEDIA_KINDS as readonly string[]).includes(t.kind)
export const isNumeric = (t: ColumnType): boolean => t.kind === 'int' || t.kind === 'float'
export const withNullable = (t: ColumnType, nullable: boolean): ColumnType => Object.freeze({ ...t, nullable })

/** True when a value of type `from` can be stored in a column of type `to` without conversion. */
export function isAssignable(from: ColumnType, to: ColumnType): boolean {
  if (from.nullable && !to.nullable) return false
  if (from.kind === to.kind) {
    if (from.kind !== 'array') return true
    return (!to.dtype || from.dtype === to.dtype) && (!to.shape || JSON.stringify(from.shape) === JSON.stringify(to.shape))
  }
  return from.kind === 'int' && to.kind === 'float'
}

/** The common type of two expressions (for comparisons, coalesce, arithmetic). */
export function commonType(a: ColumnType, b: ColumnType): ColumnType | undefined {
  const nullable = a.nullable || b.nullable
  if (a.kind === b.kind) return withNullable(a, nullable)
  if (isNumeric(a) && isNumeric(b)) return Object.freeze({ kind: 'float', nullable })
  return undefined
}
