import { resolve } from 'node:path'
import { defaultHome, parseDuration } from '../../catalog/index.ts'
import { readConfigFile, resolveServerConfig } from '../config.ts'
import { runtime } from '../../runtime/index.ts'
import { TesseraError } from '../../errors.ts'
import { createApp, Drain, requestLimitsFrom, TokenStore } from '../../server/index.ts'
import { loadRoutes } from '../../setup/index.ts'
import type { SetupTarget } from '../../setup/index.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out, UsageError } from '../command.ts'
import { intOption } from '../format.ts'
import { freshStart, homeOption, openDataDir, redactUrl } from '../target.ts'
import { VERSION } from '../version.ts'
import { abortableProviderRequests, exitNow, failedByShutdown } from './serve-shutdown.ts'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/** A setting that cannot be read (a bad number or duration) is wrong usage: exit 2 with the usage line. */
function usage<T>(read: () => T): T {
  try {
    return read()
  } catch (e) {
    if (e instanceof TesseraError && e.code === 'INVALID_ARGUMENT') throw new UsageError(e.message)
    throw e
  }
}

/** Seconds from '90', '90s', '15m', …; `what` names the flag (and the variable, when the value came from it). */
const duration = (text: string, what: string): number => usage(() => parseDuration(/^\d+$/.test(text) ? Number(text) : text, what))

export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the HTTP API on a data dir (default ~/.tessera)',
  maxArguments: 0,
  usage: 'tessera serve [--home DIR] [--port 8080] [--host 127.0.0.1] [--auth required|none] [--quiet] [--config FILE] [--database postgres://…] [--media-dir DIR | --media-store s3://bucket/prefix] [--media-root DIR[,DIR…]] [--media-allow-private] [--compact-every 1h] [--setup setup.ts] [--drain-timeout 30s] [--metrics-public] [--max-body-bytes N] [--max-import-bytes N] [--max-insert-rows N] [--max-answer-rows N] [--max-join-rows N] [--max-query-ms N]',
  options: { ...HOME_OPTION, port: { type: 'string', short: 'p' }, host: { type: 'string' }, auth: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, config: { type: 'string' }, database: { type: 'string' }, 'media-dir': { type: 'string' }, 'media-root': { type: 'string', multiple: true }, 'media-allow-private': { type: 'boolean' }, 'media-store': { type: 'string' }, 'compact-every': { type: 'string' }, setup: { type: 'string' }, 'drain-timeout': { type: 'string' }, 'metrics-public': { type: 'boolean' }, 'max-body-bytes': { type: 'string' }, 'max-import-bytes': { type: 'string' }, 'max-insert-rows': { type: 'string' }, 'max-answer-rows': { type: 'string' }, 'max-join-rows': { type: 'string' }, 'max-query-ms': { type: 'string' } },
  help: `Serves the HTTP API (/api/v1), the web console (/), /openapi.json, /metrics and /health. The data dir is locked
while it runs (one process per data dir); SIGTERM/SIGINT: new requests get 503 at once, in-flight ones finish
(up to --drain-timeout), background jobs stop (their provider calls are cut off; they continue at the next start),
the data dir is closed and the process exits 0.
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
  --media-store s3://B/P     uploaded and computed media in an S3-compatible bucket ($TESSERA_MEDIA_STORE)
  --compact-every 1h         background compaction (retention policies, VACUUM, media GC; $TESSERA_COMPACT_EVERY)
  --setup FILE               serve the routes a setup file declares (route.insert/query/call)
  --drain-timeout 30s        on SIGTERM: new requests get 503, in-flight ones get this long ($TESSERA_DRAIN_TIMEOUT)
  --metrics-public           /metrics without a token
  --max-body-bytes N         largest request body (default 64 MB; 413 beyond)
  --max-import-bytes N       most bytes one streamed import reads, after gzip decompression (default 16 GiB)
  --max-insert-rows N        most rows per insert request (default 100,000; larger loads: the streamed import)
  --max-answer-rows N        most rows in one JSON query answer (default 100,000; stream or page beyond)
  --max-join-rows N          most rows a request's join may be estimated to produce (default 50,000,000; refused before it runs)
  --max-query-ms N           PostgreSQL store: statement timeout of a request's query with joins (default 120,000)

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
    const mediaStore = (values['media-store'] as string | undefined) ?? process.env.TESSERA_MEDIA_STORE
    // Background compaction (retention policies, plain VACUUM, media GC) every interval: '1h', '30m', seconds.
    const compactEvery = (values['compact-every'] as string | undefined) ?? process.env.TESSERA_COMPACT_EVERY
    const compactSeconds = compactEvery ? duration(compactEvery, values['compact-every'] === undefined ? '--compact-every (TESSERA_COMPACT_EVERY)' : '--compact-every') : undefined
    // SIGTERM: refuse new requests at once, let those in flight finish for up to this long, then close the store.
    const drainEvery = (values['drain-timeout'] as string | undefined) ?? process.env.TESSERA_DRAIN_TIMEOUT ?? '30s'
    const drainSeconds = duration(drainEvery, values['drain-timeout'] === undefined && process.env.TESSERA_DRAIN_TIMEOUT !== undefined ? '--drain-timeout (TESSERA_DRAIN_TIMEOUT)' : '--drain-timeout')
    // Read before the data dir is opened (which can take seconds): a bad number is wrong usage, said at once.
    const limits = usage(() => requestLimitsFrom(values))
    const db = await openDataDir({ home, command: `tessera serve :${port}`, ...(database ? { database } : (await freshStart(home))), ...(mediaDir ? { mediaDir } : {}), ...(mediaStore ? { mediaStore } : {}), ...(config.mediaCacheBytes !== undefined ? { mediaCacheBytes: config.mediaCacheBytes } : {}) }, { always: true })
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
    // Service routes a setup file declares (route.insert/query/call): collected without changing anything.
    const declared = values.setup ? await loadRoutes(String(values.setup), db as unknown as SetupTarget, process.env.TESSERA_ENV ? { env: process.env.TESSERA_ENV } : {}) : undefined
    for (const c of declared?.pending ?? []) err(`warning: ${values.setup} is not applied yet (tessera apply): would ${c}`)
    const drain = new Drain()
    const app = createApp(db, {
      version: VERSION,
      drain,
      ...(declared ? { routes: declared.routes } : {}),
      tokens,
      ...(auth === 'required' ? { authenticate: tokens.authenticate } : {}),
      ...(config.quiet ? {} : { log: (l: string) => out(`${new Date().toISOString()} ${l}`) }),
      // Folders non-admin tokens may reference by local path (admins and the open loopback mode read any path).
      mediaRoots: config.mediaRoots,
      mediaAllowPrivate: config.mediaAllowPrivate,
      metricsPublic: Boolean(values['metrics-public'] ?? process.env.TESSERA_METRICS_PUBLIC === '1'),
      limits,
    })
    // Installed before any job runs (the resumed ones below included), so every provider request can be cut off.
    const providerRequests = abortableProviderRequests()
    // Background jobs a crash or stop interrupted continue where they stopped (their batches are committed). Only on
    // the embedded store: with several processes on one PostgreSQL, 'interrupted' may mean running elsewhere.
    // A job a previous server's shutdown cut off in the middle of a provider call, with onError 'abort', is recorded
    // as failed by that cut, not by its data: it continues too.
    const interrupted = db.driver.kind === 'pglite' ? (await db.jobs.list()).filter((j) => j.status === 'interrupted' || failedByShutdown(j)) : []
    for (const job of interrupted) {
      await db.jobs.resume(job.id).then(
        () => out(`resumed job ${job.id} (${job.table}.${job.column}: ${job.rowsDone}/${job.rowsTotal} rows done)`),
        (e) => err(`job ${job.id} could not resume: ${(e as Error).message}`),
      )
    }
    if (compactSeconds) db.startCompaction(compactSeconds, (l) => out(`${new Date().toISOString()} ${l}`))
    const server = await (await runtime()).serve(app.fetch, { port, hostname: host }).catch(async (e: unknown) => {
      await db.close()
      throw Object.assign(e as Error, { port })
    })
    const where = database ? redactUrl(database) : db.home
    out(`tessera ${VERSION} serving ${where} at http://${host}:${server.port} (auth: ${auth})`)
    await new Promise<void>((resolve) => {
      const stop = async (signal: string) => {
        out(`${signal}: draining (new requests get 503), waiting up to ${drainSeconds} s for ${drain.inflight} in-flight request(s)`)
        const drained = await drain.start(drainSeconds * 1000)
        if (!drained) {
          // Past the drain timeout nothing more is waited for: the requests still running (and the provider calls
          // they wait on) would otherwise hold the process until they end. A write cut off here is removed at the
          // next open. Their provider calls are not aborted first: a cell failing with onError 'ignore' could then
          // be written as an error before the process ends.
          err(`drain timeout: ${drain.inflight} request(s) still running are cut off; an unfinished write leaves nothing visible; exiting`)
          // A stream still being sent ends with a retryable error record (UNAVAILABLE), not with the connection.
          await drain.cutOff()
          out('stopped')
          return exitNow(0)
        }
        // Every request has finished, so what still waits on a provider is a background job, whose batch in flight is
        // dropped by close() and computed again when the job resumes at the next start. Its loops are told to stop
        // first (synchronously), then their provider requests are aborted: the store closes now, not after the
        // slowest model's answer.
        const jobsStopped = db.jobs.stopAll()
        providerRequests.abort()
        // Closing waits for the store's current step, for up to 5 s.
        const closed = Promise.allSettled([server.stop(), jobsStopped, db.close()])
        if (!(await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref?.())]))) {
          err('closing did not finish in time; exiting')
          out('stopped')
          return exitNow(0)
        }
        out('stopped')
        // Closed: the process ends when run() returns, unless a handle outlives the store (a provider request's
        // retry timer); it is not waited for.
        setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref?.()
        resolve()
      }
      process.once('SIGINT', () => void stop('SIGINT'))
      process.once('SIGTERM', () => void stop('SIGTERM'))
    })
    return 0
  },
}
