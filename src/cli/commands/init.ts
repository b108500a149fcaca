import type { Command } from '../command.ts'
import { HOME_OPTION, out } from '../command.ts'
import { openHome } from '../target.ts'

export const initCommand: Command = {
  name: 'init',
  summary: 'create (or check) a data dir and its catalog',
  usage: 'tessera init [--home DIR]',
  options: { ...HOME_OPTION },
  help: `options:
  -d, --home DIR     the data dir (default $TESSERA_HOME, else ~/.tessera)

examples:
  tessera init --home ./data`,
  async run(values) {
    const db = await openHome(values, 'tessera init')
    const tables = await db.listTables('', { recursive: true })
    out(`data dir ready: ${db.home} (${tables.length} tables)`)
    await db.close()
    return 0
  },
}
