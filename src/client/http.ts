import type { ErrorCode } from '../errors.ts'
import { AlreadyExistsError, NotFoundError, RequestError, TesseraError } from '../errors.ts'
import { jsonReplacer } from './base64.ts'

// The client's one HTTP primitive: JSON in, JSON out, API errors rebuilt as the same TesseraError classes the
// in-process library throws, so calling code handles both alike.

export interface ClientOptions {
  readonly token?: string
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

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.raw(method, path, body, headers)
    const text = await res.text()
    const data = text ? JSON.parse(text) : undefined
    if (!res.ok) throw toError(res.status, data)
    return data as T
  }

  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const req = new Request(`${this.#base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : {}),
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

export function toError(status: number, data: { error?: { code?: ErrorCode; message?: string; details?: Record<string, unknown> } } | undefined): TesseraError {
  const code = data?.error?.code ?? 'INTERNAL'
  const message = data?.error?.message ?? `HTTP ${status}`
  const details = data?.error?.details
  if (status === 404) return new NotFoundError(code, message, details)
  if (code.endsWith('ALREADY_EXISTS')) return new AlreadyExistsError(code, message, details)
  if (status >= 400 && status < 500 && status !== 401 && status !== 403) return new RequestError(code, message, details)
  return new TesseraError(code, message, details)
}

export const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/')
