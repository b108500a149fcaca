import { resolve } from 'node:path'
import { defaultHome, Tessera } from '../../catalog/index.ts'
import { readConfigFile, resolveServerConfig } from '../config.ts'
import { runtime } from '../../runtime/index.ts'
import { createApp } from '../../server/app.ts'
import { hashToken, TokenStore } from '../../server/tokens.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'
import { intOption } from '../format.ts'
import { freshStart, homeOption } from '../target.ts'
import { VERSION } from '../version.ts'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the HTTP API on a data dir (default ~/.tessera)',
  usage: 'tessera serve [--home DIR] [--port 8080] [--host 127.0.0.1] [--auth required|none] [--quiet] [--config FILE] [--database postgres://…] [--media-dir DIR] [--media-root DIR[,DIR…]] [--media-allow-private]',
  options: { ...HOME_OPTION, port: { type: 'string', short: 'p' }, host: { type: 'string' }, auth: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, config: { type: 'string' }, database: { type: 'string' }, 'media-dir': { type: 'string' }, 'media-root': { type: 'string', multiple: true }, 'media-allow-private': { type: 'boolean' } },
  help: `Serves the HTTP API (/api/v1), the web console (/), /openapi.json, /metrics and /health. The data dir is locked
while it runs (one process per data dir); SIGTERM/SIGINT finish in-flight requests, then close it.
Settings: flags > TESSERA_* environment > <home>/tessera.json (or --config) > defaults.

options:
  -d, --home DIR             the data dir (default $TESSERA_HOME, else ~/.tessera)
  -p, --port N               default 8080 ($TESSERA_PORT); 0 picks a free port
  --host ADDR                default 127.0.0.1 ($TESSERA_HOST); other addresses need API tokens
  --auth required|none       default: required once a token exists ($TESSERA_AUTH)
  -q, --quiet                no request log
  --config FILE              settings file (default <home>/tessera.json)
  --database URL             a PostgreSQL server instead of the data dir ($TESSERA_DATABASE_URL)
  --media-dir DIR            where uploaded media go (shared by all servers on PostgreSQL; $TESSERA_MEDIA_DIR)
  --media-root DIR[,DIR]     folders non-admin tokens may reference by path (repeatable; $TESSERA_MEDIA_ROOTS)
  --media-allow-private      let media URLs reach loopback/private networks

examples:
  tessera serve --home ./data --port 9000
  TESSERA_ADMIN_TOKEN=$TOKEN tessera serve --host 0.0.0.0
  tessera serve --database postgres://user:pass@db:5432/tessera --media-dir /mnt/shared/media`,
  async run(values) {
    intOption('--port', values.port as string | undefined, 0, 65535)
    const home = resolve(homeOption(values) ?? defaultHome())
    const config = resolveServerConfig(values, readConfigFile(values.config as string | undefined, home))
    const { port, host } = config
    // A PostgreSQL server instead of the data dir lets several `tessera serve` processes (machines) share one store.
    const database = (values.database as string | undefined) ?? process.env.TESSERA_DATABASE_URL
    const mediaDir = (values['media-dir'] as string | undefined) ?? process.env.TESSERA_MEDIA_DIR
    const db = await Tessera.open({ home, command: `tessera serve :${port}`, ...(database ? { database } : (await freshStart(home))), ...(mediaDir ? { mediaDir } : {}), ...(config.mediaCacheBytes !== undefined ? { mediaCacheBytes: config.mediaCacheBytes } : {}) })
    const tokens = new TokenStore(db.driver)
    // TESSERA_ADMIN_TOKEN bootstraps an admin token in containers, where no one runs `tessera token create`.
    const envToken = process.env.TESSERA_ADMIN_TOKEN
    if (envToken && !(await tokens.list()).some((t) => t.name === `env-admin-${hashToken(envToken).slice(0, 8)}`)) {
      await tokens.create(`env-admin-${hashToken(envToken).slice(0, 8)}`, { admin: true, token: envToken })
    }
    // Without tokens, a loopback-only server is open (a local demo); anything reachable from outside needs tokens.
    const auth = String(config.auth ?? ((await tokens.count()) > 0 ? 'required' : 'none'))
    if (auth !== 'required' && auth !== 'none') {
      err(`--auth must be 'required' or 'none', got '${auth}'`)
      await db.close()
      return 2
    }
    if (auth === 'none' && !LOOPBACK.has(host)) {
      err(`refusing to serve ${host} without API tokens: create one (tessera token create NAME --admin, or TESSERA_ADMIN_TOKEN) or bind to 127.0.0.1`)
      await db.close()
      return 2
    }
    const app = createApp(db, {
      version: VERSION,
      tokens,
      ...(auth === 'required' ? { authenticate: tokens.authenticate } : {}),
      ...(config.quiet ? {} : { log: (l: string) => out(`${new Date().toISOString()} ${l}`) }),
      // Folders non-admin tokens may reference by local path (admins and the open loopback mode read any path).
      mediaRoots: config.mediaRoots,
      mediaAllowPrivate: config.mediaAllowPrivate,
    })
    // Background jobs a crash or stop interrupted continue where they stopped (their batches are committed). Only on
    // the embedded store: with several processes on one PostgreSQL, 'interrupted' may mean running elsewhere.
    const interrupted = db.driver.kind === 'pglite' ? (await db.jobs.list()).filter((j) => j.status === 'interrupted') : []
    for (const job of interrupted) {
      await db.jobs.resume(job.id).then(
        () => out(`resumed job ${job.id} (${job.table}.${job.column}: ${job.rowsDone}/${job.rowsTotal} rows done)`),
        (e) => err(`job ${job.id} could not resume: ${(e as Error).message}`),
      )
    }
    const server = await (await runtime()).serve(app.fetch, { port, hostname: host }).catch(async (e: unknown) => {
      await db.close()
      throw Object.assign(e as Error, { port })
    })
    const where = database ? database.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : db.home
    out(`tessera ${VERSION} serving ${where} at http://${host}:${server.port} (auth: ${auth})`)
    await new Promise<void>((resolve) => {
      const stop = async (signal: string) => {
        out(`${signal}: finishing in-flight requests, then closing the data dir`)
        await server.stop()
        await db.close()
        resolve()
      }
      process.once('SIGINT', () => void stop('SIGINT'))
      process.once('SIGTERM', () => void stop('SIGTERM'))
    })
    return 0
  },
}
