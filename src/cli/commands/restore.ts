import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defaultHome } from '../../catalog/index.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out, UsageError } from '../command.ts'
import { ticker } from '../progress.ts'
import { homeOption, openLocal } from '../target.ts'

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a backup folder into a new (empty) data dir, then verify it',
  usage: 'tessera restore BACKUP_DIR [--home NEW_DIR]',
  help: `Never over live data: the target must not hold a database yet. After loading, the restored dir is checked
(like 'tessera check'); exit code 1 when problems are found.

options:
  -d, --home DIR     the new data dir (default $TESSERA_HOME, else ~/.tessera)

examples:
  tessera restore ./backups/2026-12-02 --home ./data-restored`,
  options: { ...HOME_OPTION },
  async run(values, positionals) {
    const from = positionals[0]
    if (!from) throw new UsageError('name the backup folder')
    if (!existsSync(join(from, 'pgdata.tar.gz'))) throw new UsageError(`${from} is not a backup folder: it has no pgdata.tar.gz`)
    const home = resolve(homeOption(values) ?? defaultHome())
    if (existsSync(join(home, 'pgdata'))) throw new UsageError(`${home} already has a database; restore into a new folder (never over live data)`)
    const steps = ticker(`restore ${from} → ${home}`)
    steps.step('loading the database')
    mkdirSync(home, { recursive: true })
    // Load the dump into the new data dir under its lock, so nothing else opens it half-restored.
    const db0 = await openLocal({ home, command: 'tessera restore', restoreFrom: new Blob([readFileSync(join(from, 'pgdata.tar.gz'))]) })
    await db0.close()
    steps.step('copying media files')
    if (existsSync(join(from, 'media'))) cpSync(join(from, 'media'), join(home, 'media'), { recursive: true })
    steps.step('checking')
    const db = await openLocal({ home, command: 'tessera restore' })
    try {
      const { tables, problems } = await db.check()
      steps.stop('done')
      for (const p of problems) err(`${p.table}: ${p.problem}`)
      out(`restored ${tables} tables into ${home}${problems.length ? ` with ${problems.length} problems` : ''}`)
      return problems.length ? 1 : 0
    } finally {
      await db.close()
    }
  },
}
