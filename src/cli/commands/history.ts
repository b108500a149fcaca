import type { Command } from '../command.ts'
import { JSON_OPTION, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { printJson, printRows } from '../format.ts'
import { withTarget } from '../target.ts'

export const historyCommand: Command = {
  name: 'history',
  summary: "list a table's versions: what each changed (rows inserted, updated, deleted; schema changes)",
  maxArguments: 1,
  usage: 'tessera history TABLE [--json] [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS, ...JSON_OPTION },
  help: `Newest first. Read an old version with 'tessera query TABLE:N'; undo the latest with 'tessera revert TABLE'.

options:
  --json             [{"version", "createdAt", "kind", "inserted", "updated", "deleted", "errors", "schema"}]
${TARGET_HELP}

examples:
  tessera history prod_app/docs
  tessera history prod_app/docs --json | jq '.[0]'`,
  async run(values, positionals) {
    const path = positionals[0]
    if (!path) throw new UsageError('name the table')
    if (/:\d+$/.test(path)) throw new UsageError(`history lists every version of a table: name it without ':${path.slice(path.lastIndexOf(':') + 1)}' (tessera query ${path} reads that version)`)
    const versions = await withTarget(values, 'tessera history', async (db) => (await db.getTable(path)).history(), { mustExist: true })
    if (values.json) return printJson(versions)
    printRows(versions.map((v) => ({ ...v, createdAt: new Date(v.createdAt).toISOString(), columns: Object.keys(v.schema).length })),
      ['version', 'createdAt', 'kind', 'inserted', 'updated', 'deleted', 'errors', 'columns'])
  },
}
