import { applySetup } from '../../setup/index.ts'
import type { SetupTarget } from '../../setup/index.ts'
import type { Command } from '../command.ts'
import { out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { ticker } from '../progress.ts'
import { openTarget } from '../target.ts'

export const applyCommand: Command = {
  name: 'apply',
  summary: 'apply a setup file (dirs, tables, computed columns, indexes, views) idempotently; --plan only reports',
  maxArguments: 1,
  usage: 'tessera apply setup.ts [--plan] [--env prod] [--home DIR | --url http://host:8080 --token T]',
  options: { ...TARGET_OPTIONS, plan: { type: 'boolean' }, env: { type: 'string' } },
  help: `A setup file (kept in git like a migration) declares dirs, tables, computed columns, views and indexes; each
call first looks at what exists, so applying twice changes nothing. Inside it, 'tessera' and 'tessera/client' are
this Tessera itself (from any folder, and inside the binary): nothing is installed.

  // setup.ts
  import { defineSetup } from 'tessera'
  export default defineSetup(async (db) => { await db.createDir('app'); /* ... */ })

options:
  --plan             print what would change, change nothing
  --env NAME         environment namespace: app/... becomes NAME_app/... (default $TESSERA_ENV)
${TARGET_HELP}

examples:
  tessera apply setup.ts --plan
  tessera apply setup.ts && tessera serve
  TESSERA_ENV=prod tessera apply setup.ts --url http://127.0.0.1:8080 --token $ADMIN_TOKEN`,
  async run(values, positionals) {
    const file = positionals[0]
    if (!file) throw new UsageError('name the setup file')
    const env = (values.env as string | undefined) ?? process.env.TESSERA_ENV
    const db = await openTarget(values, 'tessera apply', { extra: env ? { env } : {}, mustExist: values.plan === true })
    const steps = ticker(`${values.plan ? 'plan' : 'apply'} ${file}`)
    try {
      steps.step('running the setup')
      const result = await applySetup(file, db as unknown as SetupTarget, { plan: !!values.plan, ...(env ? { env } : {}) })
        .catch((e: unknown) => { steps.stop('failed'); throw e })
      steps.stop(`${result.changes.length} steps`)
      for (const c of result.changes) out(`${values.plan ? 'would ' : ''}${c}`)
      out(result.changed ? (values.plan ? 'plan: changes above would be made' : 'applied') : 'nothing to change: the data already matches the setup')
      return 0
    } finally {
      await db.close()
    }
  },
}
