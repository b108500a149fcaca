import { TesseraError, invalid, notFound } from '../errors.ts'

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
  // A table dropped between resolving its handle and running a statement on it: its data relation is gone.
  if (missingDataTableId(err) !== undefined) {
    return context.table
      ? notFound('TABLE_NOT_FOUND', `table '${context.table}' was dropped`, { path: context.table })
      : notFound('TABLE_NOT_FOUND', 'a table this request used was dropped while it ran')
  }
  // 42846 cannot_coerce: no cast between two types (the type checker refuses the casts it knows of first).
  if (err.code === '42846') return invalid('INVALID_EXPRESSION', `no such cast${where}: ${rename(err.message ?? '')}`, { table: context.table })
  if (err.code === '42883' || err.code === '42804') return invalid('INVALID_EXPRESSION', `expression does not apply to these types${where}: ${rename(err.message ?? '')}`, { table: context.table })
  if (err.code === '40001' || err.code === '40P01') return new TesseraError('CONCURRENCY_CONFLICT', `concurrent change${where}: ${err.message}`, { table: context.table })
  return e
}

/**
 * The table id whose data relation (tessera_data.t<id>, or its row id sequence t<id>__rowid_seq: see
 * src/catalog/data-table/layout.ts) a "relation does not exist" error names, if it names one.
 */
export function missingDataTableId(e: unknown): number | undefined {
  const err = e as PgError
  if (!err || err.code !== '42P01') return undefined
  const m = /relation "tessera_data\.t(\d+)(?:__rowid_seq)?" does not exist/.exec(err.message ?? '')
  return m ? Number(m[1]) : undefined
}
