import type { ArrayDtype, ColumnType } from './column-type.ts'

// How each column type is stored in Postgres. Media columns store a reference (path, URL or media-store id) as text.

const ARRAY_ELEMENT: Record<ArrayDtype, string> = {
  float32: 'real', float64: 'double precision', int8: 'smallint', uint8: 'smallint', int16: 'smallint',
  int32: 'integer', int64: 'bigint', bool: 'boolean',
}

export function pgType(t: ColumnType): string {
  switch (t.kind) {
    case 'string': return 'text'
    case 'int': return 'bigint'
    case 'float': return 'double precision'
    case 'bool': return 'boolean'
    case 'timestamp': return 'timestamptz'
    case 'date': return 'date'
    case 'json': return 'jsonb'
    case 'uuid': return 'uuid'
    case 'binary': return 'bytea'
    case 'array': return `${ARRAY_ELEMENT[t.dtype ?? 'float32']}[]`
    case 'image': case 'video': case 'audio': case 'document': return 'text'
  }
}

/**
 * Turns a validated JS value into the JSON value jsonb_to_recordset() parses back into the column's Postgres type.
 * Rows travel to the store as one JSON document per batch: measured ~2x faster than $n-per-value INSERTs on PGlite.
 */
export function toStoreJson(t: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null
  switch (t.kind) {
    case 'timestamp': return value instanceof Date ? value.toISOString() : value
    case 'date': return value instanceof Date ? value.toISOString().slice(0, 10) : value
    case 'binary': return '\\x' + Buffer.from(value as Uint8Array).toString('hex')
    case 'float': return Number.isFinite(value as number) ? value : String(value)
    case 'array': return toNestedArray(value)
    default: return value
  }
}

function toNestedArray(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>)
  if (Array.isArray(value)) return value.map(toNestedArray)
  return value
}

/** Turns a value read from Postgres into the library's representation for the column type. */
export function fromStore(t: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null
  switch (t.kind) {
    case 'timestamp': return value instanceof Date ? value : new Date(value as string)
    case 'date': return value instanceof Date ? value.toISOString().slice(0, 10) : value
    case 'int': return typeof value === 'bigint' ? Number(value) : value
    default: return value
  }
}
