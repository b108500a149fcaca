import { resolve } from 'node:path'
import { defaultHome, Tessera } from '../../catalog/index.ts'
import { readConfigFile, resolveServerConfig } from '../config.ts'
import { runtime } from '../../runtime/index.ts'
import { createApp } from '../../server/app.ts'
import { requestLimitsFrom } from '../../server/request.ts'
import { TokenStore } from '../../server/tokens.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'
import { VERSION } from '../version.ts'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the HTTP API on a data dir (default ~/.tessera)',
  usage: 'tessera serve [--home DIR] [--port 8080] [--host 127.0.0.1] [--auth required|none] [--quiet] [--config FILE] [--database postgres://…] [--media-dir DIR] [--media-root DIR[,DIR…]] [--media-allow-private] [--metrics-public] [--max-body-bytes N] [--max-insert-rows N] [--max-answer-rows N]',
  options: { ...HOME_OPTION, port: { type: 'string', short: 'p' }, host: { type: 'string' }, auth: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, config: { type: 'string' }, database: { type: 'string' }, 'media-dir': { type: 'string' }, 'media-root': { type: 'string', multiple: true }, 'media-allow-private': { type: 'boolean' }, 'metrics-public': { type: 'boolean' }, 'max-body-bytes': { type: 'string' }, 'max-insert-rows': { type: 'string' }, 'max-answer-rows': { type: 'string' } },
  async run(values) {
    const home = resolve(String(values.home ?? defaultHome()))
    const config = resolveServerConfig(values, readConfigFile(values.config as string | undefined, home))
    const { port, host } = config
    // A PostgreSQL server instead of the data dir lets several `tessera serve` processes (machines) share one store.
    const database = (values.database as string | undefined) ?? process.env.TESSERA_DATABASE_URL
    const mediaDir = (values['media-dir'] as string | undefined) ?? process.env.TESSERA_MEDIA_DIR
    const db = await Tessera.open({ home, command: `tessera serve :${port}`, ...(database ? { database } : {}), ...(mediaDir ? { mediaDir } : {}), ...(config.mediaCacheBytes !== undefined ? { mediaCacheBytes: config.mediaCacheBytes } : {}) })
    const tokens = new TokenStore(db.driver)
    // TESSERA_ADMIN_TOKEN bootstraps an admin token in containers, where no one runs `tessera token create`.
    // A new value replaces the previous one (which stops working).
    const envToken = process.env.TESSERA_ADMIN_TOKEN
    if (envToken) await tokens.setEnvAdmin(envToken)
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
      metricsPublic: Boolean(values['metrics-public'] ?? process.env.TESSERA_METRICS_PUBLIC === '1'),
      limits: requestLimitsFrom(values),
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
    const server = await (await runtime()).serve(app.fetch, { port, hostname: host })
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
