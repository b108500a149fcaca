import type { ParamSpecs, ParamValue } from '../api/index.ts'
import { errorOf, isErrorCode, TesseraError } from '../errors.ts'
import { jsonReplacer } from './base64.ts'

// The client's one HTTP primitive: JSON in, JSON out, API errors rebuilt as the same TesseraError classes the
// in-process library throws, so calling code handles both alike.

export interface ClientOptions {
  /** The API token, or a function read at each request (a browser app whose user logs in and out: the console). */
  readonly token?: string | (() => string | undefined)
  /** Custom fetch (tests call an in-process Hono app's fetch). */
  readonly fetch?: (req: Request) => Promise<Response>
}

export class HttpTransport {
  readonly #base: string
  readonly #options: ClientOptions

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.#base = baseUrl.replace(/\/+$/, '')
    this.#options = options
  }

  /** The token the next request sends ('' when none). */
  get token(): string {
    const t = this.#options.token
    return (typeof t === 'function' ? t() : t) ?? ''
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.raw(method, path, body, headers)
    const text = await res.text()
    const data = text ? JSON.parse(text) : undefined
    if (!res.ok) throw toError(res.status, data)
    return data as T
  }

  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const token = this.token
    const req = new Request(`${this.#base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body, jsonReplacer) } : {}),
    })
    const res = await (this.#options.fetch ?? fetch)(req)
    if (!res.ok && !(res.headers.get('content-type') ?? '').includes('json')) {
      throw new TesseraError('UNAVAILABLE', `${method} ${path} failed with HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`)
    }
    return res
  }
}

/**
 * An API error answer as the error the library would have thrown: the class follows the error CODE through the one
 * code table (src/errors.ts), never the HTTP status, so CONCURRENCY_CONFLICT is a ConcurrencyError over HTTP too.
 */
export function toError(status: number, data: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined): TesseraError {
  const e = data?.error
  const message = typeof e?.message === 'string' ? e.message : `HTTP ${status}`
  const details = e?.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : undefined
  // A code this client does not know (a newer server) keeps its name in the message and becomes the generic error.
  if (!isErrorCode(e?.code)) return new TesseraError(status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT', `${typeof e?.code === 'string' ? `${e.code}: ` : ''}${message}`, details)
  return errorOf(e.code, message, details)
}

/**
 * A route's query string ('' or '?a=1&b=x') from values typed by its parameter set in the API contract
 * (src/api/params.ts); undefined and false are left out (every boolean parameter defaults to false).
 */
export function queryString<P extends ParamSpecs>(values: { readonly [K in keyof P]?: ParamValue<P[K]> }): string {
  const q = new URLSearchParams()
  for (const [k, x] of Object.entries(values)) if (x !== undefined && x !== false) q.set(k, String(x))
  return q.size ? `?${q}` : ''
}

/** A checked path for a URL: each segment percent-encoded, the '/' kept (the table routes read them as segments; urls.ts). */
export const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/')
