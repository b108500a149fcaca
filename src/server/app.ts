import { Hono } from 'hono'
import type { Tessera } from '../catalog/index.ts'
import { authMiddleware } from './auth.ts'
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
import { queryDocs, queryRoutes } from './routes/query.ts'
import { tableDocs, tableRoutes } from './routes/tables.ts'
import { tokenDocs, tokenRoutes } from './routes/tokens.ts'
import { TokenStore } from './tokens.ts'
import { withCaller } from '../ai/index.ts'
import { mcpDocs, mcpRoutes } from '../mcp/index.ts'
import { routeSignature } from '../setup/index.ts'
import type { DeclaredRoute } from '../setup/index.ts'
import { callerOf, declaredRouteDocs, declaredRoutes } from './routes/declared.ts'

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
}

export function createApp(db: Tessera, options: AppOptions = {}) {
  const app = new Hono<AuthEnv>()
  app.onError((err, c) => toErrorResponse(err, c))
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
  app.get('/health', (c) => c.json({ status: 'ok', version: options.version ?? 'dev' }))
  app.get('/metrics', (c) => c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }))
  const docs: OperationDoc[] = [...dirDocs, ...tableDocs, ...queryDocs, ...tokenDocs, ...adminDocs, ...ioDocs, ...jobDocs, ...indexDocs, ...mediaDocs]
  docs.push(...mcpDocs, ...declaredRouteDocs(options.routes ?? []))
  const routeSigs = (options.routes ?? []).map(routeSignature) // `tessera apply --plan --url` compares against these
  app.get('/openapi.json', (c) => c.json({ ...openApiDocument(docs, options.version ?? 'dev'), 'x-tessera-routes': routeSigs }))

  const api = new Hono<AuthEnv>()
  api.use(authMiddleware(options))
  const roots = (options.mediaRoots ?? []).map(canonicalDir)
  api.use((c, next) => {
    const p = c.var.principal
    if (!p) return next()
    return withMediaAccess({ localRoots: p.admin ? 'any' : roots, who: `token '${p.name}'`, privateUrls: p.admin || !!options.mediaAllowPrivate }, () => next())
  })
  api.use((c, next) => withCaller(callerOf(c.var.principal), () => next())) // retrieval functions check the caller's scopes
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
