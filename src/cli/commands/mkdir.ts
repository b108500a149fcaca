import type { Command } from '../command.ts'
import { out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { withTarget } from '../target.ts'

export const mkdirCommand: Command = {
  name: 'mkdir',
  summary: 'create a dir (namespace); -p creates missing parents and accepts an existing dir',
  maxArguments: 1,
  usage: 'tessera mkdir PATH [-p] [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS, parents: { type: 'boolean', short: 'p' } },
  help: `options:
  -p, --parents      create missing parent dirs; no error when PATH exists already
${TARGET_HELP}

examples:
  tessera mkdir app
  tessera mkdir -p prod_app/media/photos`,
  async run(values, positionals) {
    const path = positionals[0]
    if (!path) throw new UsageError('name the dir to create')
    const parents = values.parents === true
    const { created } = await withTarget(values, 'tessera mkdir', (db) => db.createDir(path, parents ? { parents: true, ifExists: 'ignore' } : {}))
    out(created ? `created dir ${path}` : `dir ${path} exists already`)
  },
}
