import * as v from 'valibot'
import { invalid } from '../errors.ts'
import type { ColumnType } from '../types/index.ts'
import { formatType, isStorableText, parseType, valueSchema } from '../types/index.ts'
import type { ColumnMd, TableMd } from './metadata.ts'

// Checks rows against a table's schema before anything is written: one bad row rejects the whole batch, and the
// error names the row index and the column, so nothing is half written and the user knows what to fix.

export interface InputColumn {
  readonly column: ColumnMd
  readonly type: ColumnType
  readonly schema: v.GenericSchema<unknown, unknown>
  /** True for values already in the form the schema would return unchanged: they skip valibot (bulk inserts). */
  readonly canonical?: (x: unknown) => boolean
}

export function inputColumns(md: TableMd): InputColumn[] {
  return md.columns.filter((c) => !c.computed).map((column) => {
    const type = parseType(column.type)
    const canonical = CANONICAL[type.kind]
    return { column, type, schema: valueSchema(type), ...(canonical ? { canonical } : {}) }
  })
}

// Mirrors src/types/validate.ts: a value passing one of these passes its schema with the output equal to the input
// (string: text the store holds; int: a safe integer number; float: v.number() rejects only NaN; v.boolean()).
// Anything else still goes through valibot, which also words the error. valibot per cell was ~40% of a scalar bulk
// insert's JS time.
const CANONICAL: Partial<Record<ColumnType['kind'], (x: unknown) => boolean>> = {
  string: (x) => typeof x === 'string' && isStorableText(x),
  int: (x) => Number.isSafeInteger(x),
  float: (x) => typeof x === 'number' && !Number.isNaN(x),
  bool: (x) => typeof x === 'boolean',
}

export type Row = Record<string, unknown>

export interface ValidateOptions {
  /** Rows may omit columns (updates by key): missing ones are left out instead of being required. */
  readonly partial?: boolean
  /** Columns that must be present even when partial (the primary key). */
  readonly required?: readonly string[]
}

export function validateRows(md: TableMd, path: string, rows: unknown, options: ValidateOptions = {}): Row[] {
  const check = rowValidator(md, path, rows, options)
  const out: Row[] = new Array(check.count)
  for (let i = 0; i < check.count; i++) out[i] = check.row(i)
  return out
}

/** Time the serving thread spends validating before it lets other work (/health, reads) run. */
const SLICE_MS = 8

/**
 * validateRows for big batches on the serving thread: the same checks, in slices of about SLICE_MS with the event
 * loop let through between them, so a 100,000-row insert does not hold /health for a few hundred milliseconds.
 */
export async function validateRowsYielding(md: TableMd, path: string, rows: unknown, options: ValidateOptions = {}): Promise<Row[]> {
  const check = rowValidator(md, path, rows, options)
  const out: Row[] = new Array(check.count)
  let slice = performance.now()
  for (let i = 0; i < check.count; i++) {
    out[i] = check.row(i)
    if ((i & 255) === 255 && performance.now() - slice > SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      slice = performance.now()
    }
  }
  return out
}

function rowValidator(md: TableMd, path: string, rows: unknown, options: ValidateOptions): { count: number; row: (i: number) => Row } {
  if (!Array.isArray(rows)) throw invalid('INVALID_ROW', `rows for '${path}' must be an array of objects`)
  const cols = inputColumns(md)
  // A column named '__proto__' (added before such names were refused) cannot be written: assigning that key of a row
  // object sets its prototype, so the store got "[object Object]" (or, for a row without it, the same). Refused
  // whole, saying what to do, rather than storing that.
  if (rows.length > 0 && cols.some((c) => c.column.name === '__proto__')) {
    throw invalid('INVALID_ROW', `column '__proto__' of '${path}' cannot be written: the name is reserved (a row object cannot hold it as a key, so its values would be lost); rename the column (renameColumn) first`, { column: '__proto__' })
  }
  const byName = new Map(cols.map((c) => [c.column.name, c]))
  const row = (i: number): Row => {
    const row = rows[i]
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw invalid('INVALID_ROW', `row ${i} of '${path}' is not an object`, { row: i })
    }
    for (const key of Object.keys(row)) {
      if (!byName.has(key)) {
        const computed = md.columns.find((c) => c.name === key && c.computed)
        if (computed) throw invalid('INVALID_ROW', `row ${i}, column '${key}': a computed column cannot be set; it is computed from its expression`, { row: i, column: key })
        throw invalid('INVALID_ROW', `row ${i}: unknown column '${key}' in '${path}'; columns are: ${cols.map((c) => c.column.name).join(', ')}`, { row: i, column: key })
      }
    }
    const clean: Row = {}
    for (const c of cols) {
      const name = c.column.name
      const present = Object.hasOwn(row, name) && (row as Row)[name] !== undefined
      if (!present) {
        if (options.partial && !options.required?.includes(name)) continue
        if (!c.type.nullable) {
          throw invalid('INVALID_ROW', `row ${i}, column '${name}': a value is required (type ${formatType(c.type)})`, { row: i, column: name })
        }
        clean[name] = null
        continue
      }
      const value = (row as Row)[name]
      if (c.canonical?.(value)) {
        clean[name] = value
        continue
      }
      const parsed = v.safeParse(c.schema, value)
      if (!parsed.success) {
        const shown = value === null ? 'null' : typeof value === 'number' && Number.isNaN(value) ? 'NaN' : typeof value === 'string' ? JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value) : typeof value
        throw invalid('INVALID_ROW', `row ${i}, column '${name}': ${parsed.issues[0].message} for type ${formatType(c.type)}, got ${shown}`, { row: i, column: name })
      }
      clean[name] = parsed.output
    }
    return clean
  }
  return { count: rows.length, row }
}
