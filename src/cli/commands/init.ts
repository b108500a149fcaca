import type { Command } from '../command.ts'
import { DATA_DIR_OPTIONS, DATA_DIR_HELP, out } from '../command.ts'
import { openHome, redactUrl, storeOptions } from '../target.ts'

export const initCommand: Command = {
  name: 'init',
  summary: 'create (or check) a data dir and its catalog',
  maxArguments: 0,
  usage: 'tessera init [--home DIR] [--database URL] [--media-dir DIR]',
  options: { ...DATA_DIR_OPTIONS },
  help: `options:
${DATA_DIR_HELP}

examples:
  tessera init --home ./data`,
  async run(values) {
    const db = await openHome(values, 'tessera init')
    const tables = await db.listTables('', { recursive: true })
    out(db.driver.kind === 'pglite' ? `data dir ready: ${db.home} (${tables.length} tables)` : `database ready: ${redactUrl(String(storeOptions(values).database))} (${tables.length} tables)`)
    await db.close()
    return 0
  },
}
