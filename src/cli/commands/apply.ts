import { Tessera } from '../../catalog/index.ts'
import { connect } from '../../client/index.ts'
import { applySetup } from '../../setup/index.ts'
import type { SetupTarget } from '../../setup/setup-db.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'

export const applyCommand: Command = {
  name: 'apply',
  summary: 'apply a setup file (dirs, tables, computed columns, indexes, views) idempotently; --plan only reports',
  usage: 'tessera apply setup.ts [--plan] [--env prod] [--home DIR | --url http://host:8080 --token T]',
  options: { ...HOME_OPTION, plan: { type: 'boolean' }, env: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' } },
  async run(values, positionals) {
    const file = positionals[0]
    if (!file) {
      err(`usage: ${applyCommand.usage}`)
      return 2
    }
    const env = (values.env as string | undefined) ?? process.env.TESSERA_ENV
    const token = (values.token as string | undefined) ?? process.env.TESSERA_TOKEN
    const remote = values.url ? connect(String(values.url), token ? { token } : {}) : undefined
    // The data dir is opened in the same env namespace the setup's paths are resolved in.
    const db = remote ? undefined : await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), command: 'tessera apply', ...(env ? { env } : {}) })
    try {
      const target = (remote ?? db) as unknown as SetupTarget
      const result = await applySetup(file, target, { plan: !!values.plan, ...(env ? { env } : {}) })
      for (const c of result.changes) out(`${values.plan ? 'would ' : ''}${c}`)
      out(result.changed ? (values.plan ? 'plan: changes above would be made' : 'applied') : 'nothing to change: the data already matches the setup')
      return 0
    } finally {
      await db?.close()
    }
  },
}
