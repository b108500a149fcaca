import * as v from 'valibot'
import { invalid } from '../errors.ts'

// Query results: iterable rows plus column names and types; index by row or column; validate into typed objects.

export interface ResultColumn {
  readonly name: string
  readonly type: string
}

export class ResultSet<T extends Record<string, unknown> = Record<string, unknown>> implements Iterable<T> {
  readonly columns: readonly ResultColumn[]
  readonly rows: readonly T[]

  constructor(columns: readonly ResultColumn[], rows: readonly T[]) {
    this.columns = columns
    this.rows = rows
  }

  get length(): number {
    return this.rows.length
  }

  [Symbol.iterator](): Iterator<T> {
    return this.rows[Symbol.iterator]()
  }

  /** Row i (negative counts from the end). */
  row(i: number): T {
    const r = this.rows.at(i)
    if (!r) throw invalid('INVALID_ARGUMENT', `row ${i} is out of range (result has ${this.rows.length} rows)`)
    return r
  }

  /** All values of one column. */
  column<K extends keyof T & string>(name: K): T[K][] {
    if (!this.columns.some((c) => c.name === name)) {
      throw invalid('INVALID_ARGUMENT', `no column '${name}' in this result; columns are: ${this.columns.map((c) => c.name).join(', ')}`)
    }
    return this.rows.map((r) => r[name])
  }

  toObjects(): T[] {
    return this.rows.map((r) => ({ ...r }))
  }

  /** Validates every row with a valibot schema (the to_pydantic equivalent); errors name the row and field. */
  toValibot<S extends v.GenericSchema>(schema: S): v.InferOutput<S>[] {
    return this.rows.map((r, i) => {
      const parsed = v.safeParse(schema, r)
      if (!parsed.success) {
        const issue = parsed.issues[0]
        const path = issue.path?.map((p) => String(p.key)).join('.') ?? ''
        throw invalid('INVALID_ROW', `row ${i}${path ? `, field '${path}'` : ''}: ${issue.message}`, { row: i, field: path })
      }
      return parsed.output
    })
  }

  toJSON(): { columns: readonly ResultColumn[]; rows: readonly T[] } {
    return { columns: this.columns, rows: this.rows }
  }
}
