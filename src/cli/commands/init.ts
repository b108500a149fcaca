import { Tessera } from '../../catalog/index.ts'
import type { Command } from '../command.ts'
import { HOME_OPTION, out } from '../command.ts'

export const initCommand: Command = {
  name: 'init',
  summary: 'create (or check) a data dir and its catalog',
  usage: 'tessera init [--home DIR]',
  options: { ...HOME_OPTION },
  async run(values) {
    const db = await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), command: 'tessera init' })
    const tables = await db.listTables('', { recursive: true })
    out(`data dir ready: ${db.home} (${tables.length} tables)`)
    await db.close()
    return 0
  },
}
