import { connect } from '../../client/index.ts'
import { importUserModule } from '../../setup/index.ts'
import type { Command } from '../command.ts'
import { err } from '../command.ts'

// Batch jobs beside a running service: the job talks to the server over HTTP, so the data dir is never opened twice.
//   export default async function job(db, args) { const t = await db.getTable('app/docs'); ... }

export const runCommand: Command = {
  name: 'run',
  summary: 'run a batch job module against a running server (cron, a separate container)',
  usage: 'tessera run job.ts --url http://host:8080 [--token T] [-- job args]',
  options: { url: { type: 'string' }, token: { type: 'string' } },
  async run(values, positionals) {
    const [file, ...args] = positionals
    const url = (values.url as string | undefined) ?? process.env.TESSERA_URL
    if (!file || !url) {
      err(`usage: ${runCommand.usage} (or set TESSERA_URL)`)
      return 2
    }
    const token = (values.token as string | undefined) ?? process.env.TESSERA_TOKEN
    const mod = (await importUserModule(file)) as { default?: unknown }
    if (typeof mod.default !== 'function') {
      err(`${file} must export a default async function (db, args) => { ... }`)
      return 2
    }
    const result = await (mod.default as (db: unknown, args: string[]) => Promise<unknown>)(connect(url, token ? { token } : {}), args)
    return typeof result === 'number' ? result : 0
  },
}
