import { connect } from '../../client/index.ts'
import { importUserModule } from '../../setup/index.ts'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { serverToken, serverUrl } from '../target.ts'

// Batch jobs beside a running service: the job talks to the server over HTTP, so the data dir is never opened twice.
//   export default async function job(db, args) { const t = await db.getTable('app/docs'); ... }

export const runCommand: Command = {
  name: 'run',
  summary: 'run a batch job module against a running server (cron, a separate container)',
  usage: 'tessera run job.ts --url http://host:8080 [--token T] [-- job args]',
  options: { url: { type: 'string' }, token: { type: 'string' } },
  help: `The job module's default export gets the HTTP client (the library's interface) and the arguments after '--'.
Inside it, 'tessera' and 'tessera/client' are this Tessera itself (from any folder, and inside the binary).

  // nightly.ts
  export default async function (db, args) { const t = await db.getTable('app/docs'); /* ... */ }

options:
  --url URL          the server (default $TESSERA_URL)
  --token T          its API token (default $TESSERA_TOKEN)

examples:
  tessera run nightly.ts --url http://127.0.0.1:8080 --token $TESSERA_TOKEN -- --since 2026-12-01`,
  async run(values, positionals) {
    const [file, ...args] = positionals
    const url = serverUrl(values)
    if (!file) throw new UsageError('name the job file')
    if (!url) throw new UsageError('pass the server with --url (or set TESSERA_URL)')
    const token = serverToken(values)
    const mod = (await importUserModule(file)) as { default?: unknown }
    if (typeof mod.default !== 'function') throw new UsageError(`${file} must export a default async function (db, args) => { ... }`)
    const db = connect(url, token ? { token } : {})
    await db.health()   // a wrong --url fails here, in one line, before the job starts
    const result = await (mod.default as (db: unknown, args: string[]) => Promise<unknown>)(db, args)
    return typeof result === 'number' ? result : 0
  },
}
