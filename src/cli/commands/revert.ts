import type { Command } from '../command.ts'
import { out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { withTarget } from '../target.ts'

export const revertCommand: Command = {
  name: 'revert',
  summary: "undo a table's latest version (a data or schema change)",
  maxArguments: 1,
  usage: 'tessera revert TABLE [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS },
  help: `Reverting removes the latest version; run it again to go back further. Refused while a snapshot pins that
version (drop the snapshot first). 'tessera history TABLE' shows what each version changed.

options:
${TARGET_HELP}

examples:
  tessera history app/docs && tessera revert app/docs`,
  async run(values, positionals) {
    const path = positionals[0]
    if (!path) throw new UsageError('name the table to revert')
    const { version } = await withTarget(values, 'tessera revert', async (db) => (await db.getTable(path)).revert(), { mustExist: true })
    out(`reverted ${path}: now at version ${version}`)
  },
}
