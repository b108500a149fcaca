import type { Command } from '../command.ts'
import { out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { withTarget } from '../target.ts'

export const mvCommand: Command = {
  name: 'mv',
  summary: 'move or rename a table or dir',
  maxArguments: 2,
  usage: 'tessera mv FROM TO [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS },
  help: `Metadata only: no rows are copied. The target's dir must exist ('tessera mkdir -p').

options:
${TARGET_HELP}

examples:
  tessera mv app/docs app/articles
  tessera mv staging prod_app`,
  async run(values, positionals) {
    const [from, to] = positionals
    if (!from || !to) throw new UsageError('give the path to move and its new path')
    await withTarget(values, 'tessera mv', (db) => db.move(from, to), { mustExist: true })
    out(`moved ${from} → ${to}`)
  },
}
