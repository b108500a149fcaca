import { TesseraError, invalid } from '../errors.ts'

// Postgres errors that users cause (duplicate keys, bad casts) become TesseraErrors; everything else stays internal.

interface PgError {
  code?: string
  message?: string
  detail?: string
}

export function translateStoreError(e: unknown, context: { table?: string; columnNames?: ReadonlyMap<string, string> } = {}): unknown {
  if (e instanceof TesseraError) return e
  const err = e as PgError
  if (!err || typeof err.code !== 'string') return e
  const where = context.table ? ` in '${context.table}'` : ''
  const rename = (s: string): string =>
    context.columnNames ? s.replace(/\bc(\d+)\b/g, (m) => context.columnNames!.get(m) ?? m) : s
  if (err.code === '23505') {
    const m = /Key \((.*)\)=\((.*)\) already exists/.exec(err.detail ?? '')
    // The key index ends with _v_max (see src/catalog/data-table/layout.ts); users know only their key columns.
    const names = m ? m[1]!.split(', ') : []
    const values = m ? m[2]!.split(', ') : []
    if (names.at(-1) === '_v_max' && values.length === names.length) {
      names.pop()
      values.pop()
    }
    const key = m ? `(${rename(names.join(', '))})=(${values.join(', ')})` : ''
    return invalid('CONSTRAINT_VIOLATION', `duplicate primary key ${key}${where}: a row with this key already exists; use upsert (batchUpdate with ifNotExists: 'insert') to replace it`, { table: context.table })
  }
  if (err.code === '23502') return invalid('CONSTRAINT_VIOLATION', `a required value is missing${where}: ${rename(err.message ?? '')}`, { table: context.table })
  if (err.code.startsWith('22')) return invalid('INVALID_ARGUMENT', `bad value${where}: ${rename(err.message ?? '')}`, { table: context.table, sqlstate: err.code })
  if (err.code === '42883' || err.code === '42804') return invalid('INVALID_EXPRESSION', `expression does not apply to these types${where}: ${rename(err.message ?? '')}`, { table: context.table })
  if (err.code === '40001' || err.code === '40P01') return new TesseraError('CONCURRENCY_CONFLICT', `concurrent change${where}: ${err.message}`, { table: context.table })
  return e
}
