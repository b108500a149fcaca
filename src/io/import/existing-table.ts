import type { Table } from '../../catalog/index.ts'
import { invalid } from '../../errors.ts'
import { formatType, parseType } from '../../types/index.ts'

// `schema` and `primaryKey` describe the table an import creates. Into a table that exists they used to be ignored
// without a word (`--primary-key id --type v:string` exited 0 with neither): now they must say what the table is,
// and where they say something else the import is refused, naming the difference, before anything is read into it.

export function assertMatchesTable(table: Table, file: string, options: { schema?: Readonly<Record<string, string>>; primaryKey?: string | readonly string[] }): void {
  const where = `'${table.path}' exists`
  if (options.primaryKey !== undefined) {
    const asked = typeof options.primaryKey === 'string' ? [options.primaryKey] : [...options.primaryKey]
    const has = table.primaryKey
    if (asked.join('\u0000') !== has.join('\u0000')) {
      const theirs = has.length === 0 ? 'has no primary key' : `has primary key (${has.join(', ')})`
      throw invalid('INVALID_ARGUMENT', `${file}: primary key (${asked.join(', ')}) was given, but ${where} and ${theirs}; a primary key is set when an import creates the table (leave it out to import into this one); nothing was imported`, { file, primaryKey: asked })
    }
  }
  const columns = new Map(table.columns().map((c) => [c.name, c.type]))
  for (const [column, type] of Object.entries(options.schema ?? {})) {
    const has = columns.get(column)
    const asked = formatType(parseType(type))
    if (has === undefined) {
      throw invalid('INVALID_ARGUMENT', `${file}: type '${asked}' was given for column '${column}', but ${where} without that column (its columns: ${[...columns.keys()].join(', ')}); nothing was imported`, { file, column, schema: true })
    }
    if (formatType(parseType(has)) !== asked) {
      throw invalid('INVALID_ARGUMENT', `${file}: type '${asked}' was given for column '${column}', but ${where} with '${column}' of type '${has}'; types are set when an import creates the table (leave the type out, or give '${has}'); nothing was imported`, { file, column, schema: true })
    }
  }
}
