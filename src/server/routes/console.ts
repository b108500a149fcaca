import { Hono } from 'hono'
import type { Tessera } from '../../catalog/index.ts'
import { CONSOLE_CSS, CONSOLE_HASH, CONSOLE_JS } from '../../console/index.ts'
import type { AuthEnv } from '../auth.ts'
import { consoleMediaRoutes } from './console-media.ts'

// The web console: one HTML page at '/', its script and stylesheet (bundled into the binary as strings, see
// src/console/build-bundle.ts). The page holds no data and needs no token; everything it shows comes from the
// /api/v1 routes with the user's token, under the same checks as any other client.

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera console</title>
<link rel="stylesheet" href="/console/app.css?v=${CONSOLE_HASH}">
</head>
<body>
<div id="app"><noscript>The Tessera console needs JavaScript.</noscript></div>
<script type="module" src="/console/app.js?v=${CONSOLE_HASH}"></script>
</body>
</html>
`

const CSP = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

/** Static console assets: mounted at the app root, outside /api/v1 (they carry no data). */
export function consoleRoutes() {
  const app = new Hono()
  const asset = (body: string, type: string) => (c: { req: { header(k: string): string | undefined }; body: (b: string | null, s: 200 | 304, h: Record<string, string>) => Response }) => {
    const etag = `"${CONSOLE_HASH}"`
    const headers = { 'content-type': type, etag, 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' }
    return c.req.header('if-none-match') === etag ? c.body(null, 304, headers) : c.body(body, 200, headers)
  }
  app.get('/', (c) => c.html(PAGE, 200, { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }))
  app.get('/console', (c) => c.redirect('/'))
  app.get('/console/app.js', asset(CONSOLE_JS, 'text/javascript; charset=utf-8'))
  app.get('/console/app.css', asset(CONSOLE_CSS, 'text/css; charset=utf-8'))
  return app
}

/** The API routes the console needs beyond the core ones (media bytes); mounted under /api/v1. */
export function consoleApiRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()
  app.route('/', consoleMediaRoutes(db))
  return app
}
