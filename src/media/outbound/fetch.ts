import { lookup } from 'node:dns/promises'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import http from 'node:http'
import type { IncomingMessage } from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import { isIP } from 'node:net'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ErrorCode } from '../../errors.ts'
import { TesseraError } from '../../errors.ts'
import { currentMediaAccess } from '../access.ts'
import { internalReason } from './addresses.ts'

// The one way the server reads the network (remote media, model downloads). Each hop of a download:
// - parses the URL (http/https only; the URL parser normalises IPv4 in decimal, hex or octal);
// - resolves the host name ONCE, refuses it when any address is internal (loopback, private, link-local, the IPv6
//   forms that carry those; see addresses.ts) unless private addresses are allowed, and then connects to exactly
//   that address (a fixed lookup: no second resolution for a DNS-rebinding answer to slip into), while the Host
//   header and the TLS server name stay the URL's own;
// - follows redirects by hand, checking every hop the same way (at most maxRedirects);
// - has a connect timeout and a total timeout, refuses bodies over maxBytes (by Content-Length, and by counting),
//   and streams the body to a file, never into memory.

export interface OutboundOptions {
  /** Largest body accepted, in bytes (default 256 MiB). */
  readonly maxBytes?: number
  /** Time to connect to each hop (default 10 s). */
  readonly connectTimeoutMs?: number
  /** Time for the whole download, redirects included (default 120 s). */
  readonly totalTimeoutMs?: number
  /** Redirects followed (default 5). */
  readonly maxRedirects?: number
  /** Whether internal addresses may be reached; default: the current media access decides (see access.ts). */
  readonly allowPrivate?: boolean
  /**
   * Why an address counts as internal, or undefined for a public one (default: addresses.ts's internalReason).
   * Tests on one machine declare a loopback address "public" to stand in for the internet.
   */
  readonly classify?: (address: string) => string | undefined
  /** Resolves a host name to its addresses (default: the system resolver); tests inject one. */
  readonly resolve?: (host: string) => Promise<readonly string[]>
  readonly headers?: Readonly<Record<string, string>>
  readonly signal?: AbortSignal
  /** The error code of a failed download (default INVALID_MEDIA; model downloads say UNAVAILABLE). */
  readonly errorCode?: ErrorCode
}

export interface OutboundResult {
  /** The URL the body came from (after redirects). */
  readonly url: string
  readonly bytes: number
  readonly contentType: string | undefined
}

export const OUTBOUND_DEFAULTS = Object.freeze({ maxBytes: 256 * 1024 * 1024, connectTimeoutMs: 10_000, totalTimeoutMs: 120_000, maxRedirects: 5 })

const systemResolve = async (host: string): Promise<string[]> => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

const shortUrl = (u: string): string => (u.length > 200 ? `${u.slice(0, 200)}…` : u)

/** Whether the current work may reach internal addresses: in-process use may; an HTTP caller only when allowed. */
function privateAllowed(options: OutboundOptions): boolean {
  if (options.allowPrivate !== undefined) return options.allowPrivate
  const access = currentMediaAccess()
  return !access || !!access.privateUrls
}

function refuse(url: string, host: string, address: string, reason: string): TesseraError {
  const who = currentMediaAccess()?.who ?? 'this server'
  const what = address === host ? `${host} is ${reason}` : `${host} resolves to ${address}, ${reason}`
  return new TesseraError('FORBIDDEN', `${who} may not have the server fetch ${shortUrl(url)}: ${what} on the server's own network (the operator can allow it: tessera serve --media-allow-private)`, { media: shortUrl(url) })
}

/** The address one hop connects to, after the checks; throws FORBIDDEN for an internal one (unless allowed). */
export async function resolveTarget(url: URL, options: OutboundOptions = {}): Promise<{ address: string; family: 4 | 6 }> {
  const code = options.errorCode ?? 'INVALID_MEDIA'
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TesseraError(code, `cannot fetch ${shortUrl(url.href)}: only http and https URLs are fetched`, { url: shortUrl(url.href) })
  if (url.username || url.password) throw new TesseraError(code, `cannot fetch ${shortUrl(url.href)}: URLs with credentials are not fetched`, { url: shortUrl(url.href) })
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: readonly string[]
  if (isIP(host)) addresses = [host]
  else {
    try {
      addresses = await (options.resolve ?? systemResolve)(host)
    } catch (e) {
      throw new TesseraError(code, `cannot fetch ${shortUrl(url.href)}: ${host} does not resolve (${(e as Error).message})`, { url: shortUrl(url.href) })
    }
    if (addresses.length === 0) throw new TesseraError(code, `cannot fetch ${shortUrl(url.href)}: ${host} has no address`, { url: shortUrl(url.href) })
  }
  if (!privateAllowed(options)) {
    // Every address must be public: a name answering with one public and one internal address is refused.
    for (const a of addresses) {
      const reason = (options.classify ?? internalReason)(a)
      if (reason) throw refuse(url.href, host, a, reason)
    }
  }
  const address = addresses[0]!
  return { address, family: isIP(address) === 6 ? 6 : 4 }
}

/** A lookup that answers with the address already checked, whatever it is asked. */
const fixedLookup = (address: string, family: 4 | 6): LookupFunction =>
  ((_host: string, opts: { all?: boolean }, cb: (err: Error | null, a: unknown, f?: number) => void) => {
    if (opts?.all) cb(null, [{ address, family }])
    else cb(null, address, family)
  }) as unknown as LookupFunction

function request(url: URL, target: { address: string; family: 4 | 6 }, options: OutboundOptions, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<IncomingMessage> {
  const connectMs = options.connectTimeoutMs ?? OUTBOUND_DEFAULTS.connectTimeoutMs
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const mod = url.protocol === 'https:' ? https : http
    const req = mod.request({
      protocol: url.protocol,
      host,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { 'user-agent': 'tessera', accept: '*/*', 'accept-encoding': 'identity', ...headers },
      lookup: fixedLookup(target.address, target.family),
      // No pooled connections: a socket opened for one caller's check (an admin's, to an internal address) must not
      // be reused for a request whose own check went to a different address.
      agent: false,
      family: target.family,
      ...(url.protocol === 'https:' && !isIP(host) ? { servername: host } : {}),
      signal,
    }, resolve)
    const timer = setTimeout(() => req.destroy(new Error(`no connection within ${connectMs} ms`)), connectMs)
    req.once('socket', (s) => {
      if (!s.connecting) clearTimeout(timer)
      else s.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer))
    })
    req.once('response', () => clearTimeout(timer))
    req.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    req.end()
  })
}

/**
 * Downloads `url` into the file `target` (created or replaced), under the checks above. The file is removed when
 * the download fails. Errors are TesseraErrors: FORBIDDEN for an internal address, otherwise `options.errorCode`
 * (INVALID_MEDIA) with details.status for an HTTP error status.
 */
export async function downloadOutbound(url: string, target: string, options: OutboundOptions = {}): Promise<OutboundResult> {
  const code = options.errorCode ?? 'INVALID_MEDIA'
  const maxBytes = options.maxBytes ?? OUTBOUND_DEFAULTS.maxBytes
  const totalMs = options.totalTimeoutMs ?? OUTBOUND_DEFAULTS.totalTimeoutMs
  const maxRedirects = options.maxRedirects ?? OUTBOUND_DEFAULTS.maxRedirects
  const timeout = AbortSignal.timeout(totalMs)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  const fail = (message: string, details: Record<string, unknown> = {}) => new TesseraError(code, `cannot fetch ${shortUrl(url)}: ${message}`, { url: shortUrl(url), ...details })
  let current: URL
  try {
    current = new URL(url)
  } catch {
    throw fail('not a valid URL')
  }
  const origin = current.origin
  for (let hop = 0; ; hop++) {
    const targetAddress = await resolveTarget(current, options)
    let res: IncomingMessage
    try {
      // The caller's headers (credentials, say) go to the URL's own origin only, never along a redirect elsewhere.
      res = await request(current, targetAddress, options, current.origin === origin ? options.headers ?? {} : {}, signal)
    } catch (e) {
      throw fail(timeout.aborted ? `no answer within ${totalMs} ms (limit)` : (e as Error).message)
    }
    const status = res.statusCode ?? 0
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume()
      if (hop >= maxRedirects) throw fail(`more than ${maxRedirects} redirects (limit)`)
      try {
        current = new URL(res.headers.location, current)
      } catch {
        throw fail(`a redirect to an invalid URL`)
      }
      continue
    }
    if (status < 200 || status >= 300) {
      res.resume()
      throw fail(`HTTP ${status}`, { status })
    }
    const declared = Number(res.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy()
      throw fail(`${declared} bytes, more than ${maxBytes} (limit)`, { limit: maxBytes })
    }
    let bytes = 0
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length
        if (bytes > maxBytes) done(fail(`more than ${maxBytes} bytes (limit)`, { limit: maxBytes }))
        else done(null, chunk)
      },
    })
    try {
      await pipeline(res, counter, createWriteStream(target), { signal })
    } catch (e) {
      await rm(target, { force: true })
      if (e instanceof TesseraError) throw e
      throw fail(timeout.aborted ? `not complete within ${totalMs} ms (limit)` : (e as Error).message)
    }
    return { url: current.href, bytes, contentType: res.headers['content-type'] }
  }
}
