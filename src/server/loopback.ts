import type { MiddlewareHandler } from 'hono'
import { errorOf } from '../errors.ts'

// The open loopback mode (no tokens: a local demo or a developer's own server) trusts whoever can connect, which a
// browser can be tricked into doing for any web page. So in that mode:
// - the Host header must name a loopback address (a DNS-rebound name such as evil.example resolving to 127.0.0.1
//   arrives with its own Host, and is refused);
// - API requests must come from the same origin (the console) or from no browser page at all (curl, the client):
//   a foreign Origin, or Sec-Fetch-Site other than same-origin/none, is refused, including other localhost ports.
// JSON bodies are only read as application/json (request.ts), which a cross-site form cannot send.

const LOOPBACK_HOST = /^(?:localhost|(?:[\w-]+\.)*localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i

export const isLoopbackHost = (host: string | undefined): boolean => !!host && LOOPBACK_HOST.test(host)

export function loopbackOnly(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host
    if (!isLoopbackHost(host)) {
      throw errorOf('FORBIDDEN', `this server runs without API tokens and answers only requests for a loopback host (localhost, 127.0.0.1, [::1]); got Host '${host.slice(0, 80)}'. Create a token (tessera token create NAME --admin) to serve other names.`)
    }
    if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') {
      const origin = c.req.header('origin')
      if (origin !== undefined && origin !== `${c.req.url.slice(0, c.req.url.indexOf(':'))}://${host}`) {
        throw errorOf('FORBIDDEN', `cross-origin request from '${origin.slice(0, 80)}' refused: without API tokens this server only answers its own console and non-browser clients`)
      }
      const site = c.req.header('sec-fetch-site')
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        throw errorOf('FORBIDDEN', `cross-site request (Sec-Fetch-Site: ${site.slice(0, 20)}) refused: without API tokens this server only answers its own console and non-browser clients`)
      }
    }
    await next()
  }
}
