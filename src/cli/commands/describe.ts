import type { Command } from '../command.ts'
import { JSON_OPTION, out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { printJson, printRows } from '../format.ts'
import { withTarget } from '../target.ts'

export const describeCommand: Command = {
  name: 'describe',
  summary: 'show a table: columns and types, computed expressions, primary key, indexes, version, rows',
  maxArguments: 1,
  usage: 'tessera describe TABLE[:version] [--json] [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS, ...JSON_OPTION },
  help: `options:
  TABLE[:version]    a table, view or snapshot path; ':3' describes version 3
  --json             {"path", "version", "readOnly", "primaryKey", "rows", "columns": [...], "indexes": [...]}
${TARGET_HELP}

examples:
  tessera describe prod_app/docs
  tessera describe prod_app/docs:3 --json`,
  async run(values, positionals) {
    const path = positionals[0]
    if (!path) throw new UsageError('name the table to describe')
    const info = await withTarget(values, 'tessera describe', async (db) => {
      const t = await db.getTable(path)
      return {
        path: t.path, version: t.version, readOnly: t.isReadOnly, primaryKey: t.primaryKey, rows: await t.count(),
        columns: t.columns().map((c) => ({ name: c.name, type: c.type, computedWith: c.computedWith ?? null, primaryKey: c.primaryKey })),
        indexes: t.listIndexes(),
      }
    }, { mustExist: true })
    if (values.json) return printJson(info)
    out(`${info.path}  version ${info.version}, ${info.rows} rows${info.readOnly ? ', read-only' : ''}${info.primaryKey.length ? `, primary key (${info.primaryKey.join(', ')})` : ''}`)
    out('')
    printRows(info.columns.map((c) => ({ column: c.name, type: c.type, computed: c.computedWith ?? '' })), ['column', 'type', 'computed'], 100)
    if (info.indexes.length) {
      out('')
      printRows(info.indexes.map((i) => ({ ...i })), undefined, 60)
    }
  },
}
