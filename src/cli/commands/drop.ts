import { nothingAt } from '../../catalog/index.ts'
import { NotFoundError } from '../../errors.ts'
import type { Command } from '../command.ts'
import { out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { tableKind } from '../table-kind.ts'
import { withTarget } from '../target.ts'

const parentOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '')

export const dropCommand: Command = {
  name: 'drop',
  summary: 'drop a table, view, snapshot or dir (--force: with what depends on it / what it contains)',
  maxArguments: 1,
  usage: 'tessera drop PATH [--force] [--if-exists] [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS, force: { type: 'boolean', short: 'f' }, 'if-exists': { type: 'boolean' } },
  help: `A table with views or snapshots, or a dir that is not empty, is refused unless --force (which drops them too).
Dropped data cannot be reverted: 'tessera backup' first when in doubt.

options:
  -f, --force        also drop dependent views and snapshots, or everything in the dir
  --if-exists        succeed when PATH does not exist
${TARGET_HELP}

examples:
  tessera drop app/old_docs
  tessera drop scratch --force`,
  async run(values, positionals) {
    const path = positionals[0]
    if (!path) throw new UsageError('name the table or dir to drop')
    const force = values.force === true
    const ifNotExists = values['if-exists'] ? 'ignore' as const : 'error' as const
    const what = await withTarget(values, 'tessera drop', async (db) => {
      // One path is either a table (a view, a snapshot) or a dir: try the table first.
      const table = await db.getTable(path).then((t) => t, (e) => {
        if (e instanceof NotFoundError) return undefined
        throw e
      })
      if (table) {
        const { kind } = await tableKind(db, table)
        await db.dropTable(path, { force })
        return kind
      }
      if (ifNotExists === 'ignore' && !(await db.listDirs(parentOf(path)).then((dirs) => dirs.includes(path), () => false))) return undefined
      // Not a table, and no dir: the dir's refusal ("directory 'app/old_docs' does not exist") read as if a table
      // could not be at that path, when the user most often meant one.
      await db.dropDir(path, { force, ifNotExists }).catch((e: unknown) => {
        if (e instanceof NotFoundError && e.code === 'DIR_NOT_FOUND') throw nothingAt('drop', path)
        throw e
      })
      return 'dir'
    }, { mustExist: !values['if-exists'] })
    out(what ? `dropped ${what} ${path}` : `${path} does not exist: nothing dropped (--if-exists)`)
  },
}
