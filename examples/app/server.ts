// The app server: Tessera's API (with the routes setup.ts declares, the MCP endpoint and the console) plus the app's
// own UI. `bun examples/app/server.ts` (PORT, APP_HOME, APP_TOKEN; see README.md).
import { join } from 'node:path'
import { Hono } from 'hono'
import { applySetup, Tessera } from 'tessera'
import { createApp } from 'tessera/server'
import setup from './setup.ts'

const UI = join(import.meta.dir, 'ui')

/** The UI bundle (Preact + htm, no build step to run by hand): built once when the server starts. */
async function buildUi(): Promise<string> {
  const out = await Bun.build({ entrypoints: [join(UI, 'main.ts')], target: 'browser', format: 'esm', minify: true })
  if (!out.success) throw new AggregateError(out.logs, 'the app UI failed to build')
  return out.outputs[0]!.text()
}

export interface AppServer {
  readonly fetch: (req: Request) => Response | Promise<Response>
  readonly db: Tessera
  close(): Promise<void>
}

export async function createAppServer(options: { db?: Tessera; home?: string; token?: string } = {}): Promise<AppServer> {
  const db = options.db ?? (await Tessera.open({ ...(options.home ? { home: options.home } : {}), command: 'example app' }))
  const { changes, routes } = await applySetup(setup, db as never)
  for (const c of changes.filter((x) => !x.startsWith('note:'))) console.log(`setup: ${c}`)
  // With APP_TOKEN every API call needs it (the UI asks once); without, serve on loopback only.
  const token = options.token
  const api = createApp(db, {
    ...(token ? { authenticate: async (t: string) => (t === token ? { name: 'app', admin: true, scopes: [] } : undefined) } : {}),
    ...(routes ? { routes } : {}),
  })
  const js = await buildUi()
  const css = await Bun.file(join(UI, 'styles.css')).text()
  const app = new Hono()
  app.get('/', (c) => c.html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Tessera app</title><link rel="stylesheet" href="/app.css"></head><body><div id="root"></div><script type="module" src="/app.js"></script></body></html>`))
  app.get('/app.js', (c) => c.body(js, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  app.get('/app.css', (c) => c.body(css, 200, { 'content-type': 'text/css; charset=utf-8' }))
  app.route('/', api)
  return { fetch: app.fetch, db, close: () => (options.db ? Promise.resolve() : db.close()) }
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 3000)
  const hostname = process.env.HOST ?? '127.0.0.1'
  const token = process.env.APP_TOKEN
  if (!token && hostname !== '127.0.0.1' && hostname !== 'localhost') throw new Error('set APP_TOKEN to serve beyond loopback')
  const server = await createAppServer({ ...(process.env.APP_HOME ? { home: process.env.APP_HOME } : {}), ...(token ? { token } : {}) })
  const http = Bun.serve({ port, hostname, fetch: server.fetch, idleTimeout: 120 })
  console.log(`app at http://${hostname}:${http.port}`)
  const stop = async () => { await http.stop(); await server.close(); process.exit(0) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
