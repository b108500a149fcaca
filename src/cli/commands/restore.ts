import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defaultHome, Tessera } from '../../catalog/index.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a backup folder into a new (empty) data dir, then verify it',
  usage: 'tessera restore BACKUP_DIR [--home NEW_DIR]',
  options: { ...HOME_OPTION },
  async run(values, positionals) {
    const from = positionals[0]
    if (!from || !existsSync(join(from, 'pgdata.tar.gz'))) {
      err(`usage: ${restoreCommand.usage} (BACKUP_DIR must contain pgdata.tar.gz)`)
      return 2
    }
    const home = resolve(String(values.home ?? defaultHome()))
    if (existsSync(join(home, 'pgdata'))) {
      err(`${home} already has a database; restore into a new folder (never over live data)`)
      return 2
    }
    mkdirSync(home, { recursive: true })
    // Load the dump into the new data dir under its lock, so nothing else opens it half-restored.
    const db0 = await Tessera.open({ home, command: 'tessera restore', restoreFrom: new Blob([readFileSync(join(from, 'pgdata.tar.gz'))]) })
    await db0.close()
    if (existsSync(join(from, 'media'))) cpSync(join(from, 'media'), join(home, 'media'), { recursive: true })
    const db = await Tessera.open({ home, command: 'tessera restore' })
    try {
      const { tables, problems } = await db.check()
      for (const p of problems) err(`${p.table}: ${p.problem}`)
      out(`restored ${tables} tables into ${home}${problems.length ? ` with ${problems.length} problems` : ''}`)
      return problems.length ? 1 : 0
    } finally {
      await db.close()
    }
  },
}
