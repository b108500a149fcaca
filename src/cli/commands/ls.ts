import { TesseraError } from '../../errors.ts'
import type { Command } from '../command.ts'
import { JSON_OPTION, out, TARGET_HELP, TARGET_OPTIONS } from '../command.ts'
import { printJson, printRows } from '../format.ts'
import { tableKind } from '../table-kind.ts'
import { withTarget } from '../target.ts'

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list the dirs and tables in a dir (-l: versions, rows, columns)',
  maxArguments: 1,
  usage: 'tessera ls [DIR] [-r] [-l] [--json] [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS, ...JSON_OPTION, recursive: { type: 'boolean', short: 'r' }, long: { type: 'boolean', short: 'l' } },
  help: `Dirs end with '/'. Tables include views and snapshots.

options:
  DIR                the dir to list (default: the top level)
  -r, --recursive    everything below DIR
  -l, --long         one line per table with its version, row count and column count
  --json             [{"path", "type": "dir"|"table", and with -l "type": "view"|"snapshot" for those, "version"
                     (a snapshot's: the base version it pins), "rows", "columns", "readOnly"}]
${TARGET_HELP}

examples:
  tessera ls
  tessera ls prod_app -l
  tessera ls -r --json --url http://127.0.0.1:8080 --token $TOKEN`,
  async run(values, positionals) {
    const dir = positionals[0] ?? ''
    const recursive = values.recursive === true
    const entries = await withTarget(values, 'tessera ls', async (db) => {
      const listed = await Promise.all([db.listDirs(dir, { recursive }), db.listTables(dir, { recursive })]).catch(async (e: unknown) => {
        // `ls TABLE` lists that table, as `ls FILE` does; a path that is neither keeps the dir's error.
        if (!(e instanceof TesseraError && e.code === 'DIR_NOT_FOUND') || dir === '') throw e
        return db.getTable(dir).then((t) => [[], [t.path]] as const, () => { throw e })
      })
      const [dirs, tables] = listed
      const list: Record<string, unknown>[] = [...dirs.map((path) => ({ path, type: 'dir' })), ...tables.map((path) => ({ path, type: 'table' }))]
      list.sort((a, b) => String(a.path).localeCompare(String(b.path)))
      if (!values.long) return list
      for (const e of list) {
        if (e.type !== 'table') continue
        const t = await db.getTable(String(e.path))
        // Views and snapshots say so; a snapshot's version is the base version it pins.
        const { kind, version } = await tableKind(db, t)
        Object.assign(e, { type: kind, version, rows: await t.count(), columns: t.columns().length, readOnly: t.isReadOnly })
      }
      return list
    }, { mustExist: true })
    if (values.json) printJson(entries)
    else if (values.long) printRows(entries.map((e) => ({ ...e, path: e.type === 'dir' ? `${String(e.path)}/` : e.path, readOnly: e.readOnly ? 'read-only' : '' })), ['path', 'type', 'version', 'rows', 'columns', 'readOnly'])
    else for (const e of entries) out(e.type === 'dir' ? `${String(e.path)}/` : String(e.path))
  },
}
