import { HttpError } from '../compute/index.ts'

// How provider endpoints appear in messages, and the one rule about where a request may land. Error messages reach
// tenants (a 422 body, a stored per-cell errormsg), so a URL is shown without what may be a secret: userinfo
// (http://user:password@proxy/v1, common for corporate and LiteLLM proxies) and the query string (?key=... for some
// gateways). Every message in src/ai that names a URL goes through shownUrl().

/** The URL as messages may show it: scheme, host and path; no userinfo, query string or fragment. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    // Unparsable, so we cannot tell which part is a password: show none of it (the request fails on its own anyway).
    return '(an unparsable URL)'
  }
}

/** Replaces every spelling of `url` in a message (a fetch error may quote it) by its shown form. */
export function scrubUrl(message: string, url: string): string {
  const shown = shownUrl(url)
  let out = message.split(url).join(shown)
  try {
    const u = new URL(url)
    if (u.href !== url) out = out.split(u.href).join(shown)
    // The userinfo alone (user:password@), as some runtimes quote the host part of a URL they could not reach.
    const userinfo = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''
    if (userinfo) out = out.split(userinfo).join('')
  } catch { /* nothing more to find */ }
  return out
}

/**
 * Throws for a redirect. Provider requests are sent with redirect: 'manual' because a followed redirect would carry
 * the API key (x-api-key, x-goog-api-key, custom headers) to whatever host the base URL points at; the key is meant for
 * the configured base URL only. Not retried: the same request would be redirected again.
 */
export function refuseRedirect(res: Response, url: string, where: string): void {
  const redirect = res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)
  if (!redirect) return
  res.body?.cancel().catch(() => {})
  const location = res.headers.get('location')
  let to = 'without a Location header'
  if (location) {
    try {
      to = `to host ${new URL(location, url).host}`
    } catch {
      to = 'to an unparsable Location'
    }
  }
  const status = res.status || 'redirect'
  throw new HttpError(`${where} answered HTTP ${status}, redirecting ${to}: redirects are not followed for provider calls (the API key goes to the configured base URL only); configure the final base URL instead`, res.status || 307)
}
