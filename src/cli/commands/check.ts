import { Tessera } from '../../catalog/index.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify a data dir: catalog, versions, data tables, row versions, keys (exit 1 on problems)',
  usage: 'tessera check [--home DIR]',
  options: { ...HOME_OPTION },
  async run(values) {
    const db = await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), command: 'tessera check' })
    try {
      const { tables, problems } = await db.check()
      for (const p of problems) err(`${p.table}: ${p.problem}`)
      out(problems.length === 0 ? `ok: ${tables} tables consistent` : `${problems.length} problems in ${tables} tables`)
      return problems.length === 0 ? 0 : 1
    } finally {
      await db.close()
    }
  },
}
