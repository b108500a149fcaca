import { Hono } from 'hono'
import type { Tessera } from '../catalog/index.ts'
import { bodyLimit } from 'hono/body-limit'
import { authMiddleware, canAccess, optionalPrincipal, requireAdmin } from './auth.ts'
import type { AuthEnv, AuthOptions } from './auth.ts'
import { errorBody, toErrorResponse } from './errors.ts'
import { Metrics } from './metrics.ts'
import type { Drain } from './drain.ts'
import { openApiDocument } from './openapi.ts'
import type { OperationDoc } from './openapi.ts'
import { adminDocs, adminRoutes } from './routes/admin.ts'
import { dirDocs, dirRoutes } from './routes/dirs.ts'
import { ioDocs, ioRoutes } from './routes/io.ts'
import { jobDocs, jobRoutes } from './routes/jobs.ts'
import { consoleApiRoutes, consoleRoutes } from './routes/console.ts'
import { mediaDocs } from './routes/console-media.ts'
import { indexDocs, indexRoutes } from './routes/indexes.ts'
import { canonicalDir, withMediaAccess } from '../media/index.ts'
import { storeRefGate } from './media-refs.ts'
import { queryDocs, queryRoutes } from './routes/query.ts'
import { tableDocs, tableRoutes } from './routes/tables.ts'
import { tokenDocs, tokenRoutes } from './routes/tokens.ts'
import { TokenStore } from './tokens.ts'
import { withCaller } from '../ai/index.ts'
import { mcpDocs, mcpRoutes } from './mcp/index.ts'
import { routeSignature } from '../setup/index.ts'
import type { DeclaredRoute } from '../setup/index.ts'
import { callerOf, declaredRouteDocs, declaredRoutes } from './routes/declared.ts'
import { loopbackOnly } from './loopback.ts'
import { DEFAULT_LIMITS, tooLarge } from './request.ts'
import type { RequestLimits } from './request.ts'
import { bodyReadFailed } from './json-body.ts'

// The HTTP API over one Tessera instance. No defaults are chosen here: bin/ picks the store, runtime and port.

export interface AppOptions extends AuthOptions {
  /** Token administration routes use this store (default: one over the database's catalog). */
  readonly tokens?: TokenStore
  /** Request log sink (one line per request); omit to log nothing. */
  readonly log?: (line: string) => void
  readonly version?: string
  /**
   * Directories whose files non-admin tokens may reference by local path (media values, similarity queries, media
   * functions). Admin tokens, and the open loopback mode, read any path; everyone may send bytes or URLs.
   */
  readonly mediaRoots?: readonly string[]
  /** Let non-admin tokens' media URLs reach loopback, private and link-local addresses (default: refused). */
  readonly mediaAllowPrivate?: boolean
  /** Service routes a setup file declares (route.insert/query/call), served at /api/v1/app/<path>. */
  readonly routes?: readonly DeclaredRoute[]
  /** Graceful shutdown (tessera serve): once draining, every request answers 503 and /health says 'draining'. */
  readonly drain?: Drain
  /** Request limits (body size, rows per insert, rows per JSON answer); each defaults to DEFAULT_LIMITS. */
  readonly limits?: Partial<RequestLimits>
  /** Serve /metrics without a token (default: an admin token is needed, as for the admin routes). */
  readonly metricsPublic?: boolean
}

export function createApp(db: Tessera, options: AppOptions = {}) {
  const app = new Hono<AuthEnv>()
  const limits: RequestLimits = { ...DEFAULT_LIMITS, ...options.limits }
  app.onError((err, c) => toErrorResponse(err, c))
  // Without tokens (the open loopback mode), only same-origin requests naming a loopback host are served, so neither
  // another web page nor a DNS-rebound name can drive the API from a browser.
  if (!options.authenticate) app.use(loopbackOnly())
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 404))
  if (options.drain) app.use(options.drain.middleware())

  if (options.log) {
    const log = options.log
    app.use(async (c, next) => {
      const start = performance.now()
      await next()
      log(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - start).toFixed(1)}ms`)
    })
  }

  const metrics = new Metrics()
  app.use(metrics.middleware())
  // Hono hands only Errors to onError: anything else thrown (a declared route's `throw { x: 1 }`) would escape the app
  // to the runtime's own error page, unlogged. Made an Error here, inside the log and the metrics, it is answered and
  // logged as any bug is.
  app.use(async (_c, next) => {
    try {
      await next()
    } catch (e) {
      throw e instanceof Error ? e : new Error(`a handler threw ${e === null ? 'null' : typeof e}, not an Error`, { cause: e })
    }
  })
  app.get('/health', (c) => c.json({ status: 'ok', version: options.version ?? 'dev' }))
  // Metrics name routes and load, so they need an admin token unless the operator made them public.
  if (!options.metricsPublic) {
    app.use('/metrics', authMiddleware(options))
    app.use('/metrics', async (c, next) => {
      requireAdmin(c.var.principal)
      await next()
    })
  }
  app.get('/metrics', (c) => c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }))
  const docs: OperationDoc[] = [...dirDocs, ...tableDocs, ...queryDocs, ...tokenDocs, ...adminDocs, ...ioDocs, ...jobDocs, ...indexDocs, ...mediaDocs]
  docs.push(...mcpDocs, ...declaredRouteDocs(options.routes ?? []))
  // `tessera apply --plan --url` compares a setup's routes against these. They name the tables routes write to (and
  // their defaults): the document is open to everyone, the signatures only to a token, and only those of routes whose
  // table it may read (a route that names no table, to any token).
  const routeSigs = (options.routes ?? []).map(routeSignature)
  const document = openApiDocument(docs, options.version ?? 'dev')
  app.get('/openapi.json', async (c) => {
    const who = await optionalPrincipal(options, c)
    const sigs = who ? routeSigs.filter((r) => r.table === undefined || canAccess(who, r.table, 'read')) : []
    return c.json({ ...document, 'x-tessera-routes': sigs })
  })

  const api = new Hono<AuthEnv>()
  // The body limit applies to every route but the streamed import, which never holds its body in memory.
  const limitBody = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () => {
      throw tooLarge(`request body is larger than ${limits.maxBodyBytes} bytes (limit): send rows in smaller requests, or stream a file to POST /api/v1/tables/{path}/-/import`, { limit: limits.maxBodyBytes })
    },
  })
  api.use(async (c, next) => {
    c.set('limits', limits)
    await next()
  })
  // Authentication first: nobody without a token gets a body read, not even up to the limit.
  api.use(authMiddleware(options))
  api.use(async (c, next) => {
    if (c.req.path.endsWith('/-/import')) return next()
    // A body of unknown length is collected by the limit before the route runs: a failure while it reads (the client
    // went away) is mapped as every body read's is (json-body.ts); what the route throws after is left as it is.
    let reading = true
    try {
      return await limitBody(c, () => {
        reading = false
        return next()
      })
    } catch (e) {
      throw reading ? bodyReadFailed(e) : e
    }
  })
  const roots = (options.mediaRoots ?? []).map(canonicalDir)
  api.use((c, next) => {
    const p = c.var.principal
    if (!p) return next()
    // Reads (GET, queries, searches, exports) never write: what they derive stays in the bounded cache.
    const readOnly = c.req.method === 'GET' || /\/(query|export|-\/search)$/.test(c.req.path)
    const storeRefs = storeRefGate(db, p)
    return withMediaAccess({ localRoots: p.admin ? 'any' : roots, who: `token '${p.name}'`, privateUrls: p.admin || !!options.mediaAllowPrivate, readOnly, ...(storeRefs ? { storeRefs } : {}) }, () => next())
  })
  api.use((c, next) => withCaller(callerOf(c.var.principal, db), () => next())) // retrieval functions check the caller's scopes
  api.route('/', dirRoutes(db))
  api.route('/', tableRoutes(db))
  api.route('/', indexRoutes(db))
  api.route('/', queryRoutes(db))
  api.route('/', tokenRoutes(options.tokens ?? new TokenStore(db.driver)))
  api.route('/', adminRoutes(db))
  api.route('/', ioRoutes(db))
  api.route('/', jobRoutes(db))
  api.route('/', consoleApiRoutes(db))
  api.route('/', mcpRoutes(db, { version: options.version ?? 'dev' })) // POST /api/v1/mcp
  api.route('/', declaredRoutes(db, options.routes ?? [])) // POST /api/v1/app/<path>
  app.route('/api/v1', api)
  app.route('/', consoleRoutes())
  return app
}

export type App = ReturnType<typeof createApp>
