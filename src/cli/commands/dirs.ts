import type { Command } from '../command.ts'
import { JSON_OPTION, out, TARGET_HELP, TARGET_OPTIONS } from '../command.ts'
import { printJson } from '../format.ts'
import { withTarget } from '../target.ts'

export const dirsCommand: Command = {
  name: 'dirs',
  summary: 'list dirs (namespaces) under a path',
  maxArguments: 1,
  usage: 'tessera dirs [PATH] [-r] [--json] [--home DIR | --url URL --token T]',
  options: { ...TARGET_OPTIONS, ...JSON_OPTION, recursive: { type: 'boolean', short: 'r' } },
  help: `options:
  PATH               list under this dir (default: the top level)
  -r, --recursive    all dirs below, not only the direct children
  --json             a JSON array of paths
${TARGET_HELP}

examples:
  tessera dirs
  tessera dirs prod_app -r --json
  tessera dirs --url http://127.0.0.1:8080 --token $TOKEN`,
  async run(values, positionals) {
    const dirs = await withTarget(values, 'tessera dirs', (db) => db.listDirs(positionals[0] ?? '', { recursive: values.recursive === true }), { mustExist: true })
    if (values.json) printJson(dirs)
    else for (const d of dirs) out(d)
  },
}
