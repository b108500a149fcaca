import { StoppedError } from './stop.ts'

// Retries for calls to services and models. Only transient failures are retried (rate limits, server errors, network
// errors): a 400 means the request is wrong and retrying it would only burn quota.

/** A failure worth retrying. `retryAfterMs` is the server's hint (Retry-After), when it gave one. */
export class TransientError extends Error {
  override readonly name: string = 'TransientError'
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined

  constructor(message: string, options: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.status = options.status
    this.retryAfterMs = options.retryAfterMs
  }
}

/** A non-retryable HTTP failure (4xx other than 408/429); errortype becomes 'HttpError' in a failed cell. */
export class HttpError extends Error {
  override readonly name: string = 'HttpError'
  readonly status: number

  constructor(message: string, status: number) {
    super(message)
    this.status = status
  }
}

export interface RetryOptions {
  /** Retries after the first try (default 3). */
  readonly max?: number
  /** First backoff; doubles each retry, with full jitter (default 500 ms). */
  readonly backoffMs?: number
  /** Ceiling for one backoff (default 30 s). */
  readonly maxBackoffMs?: number
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ConnectionRefused', 'ConnectionClosed', 'UND_ERR_SOCKET'])

export const isTransientStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500

/** True for errors a retry may fix: TransientError, HTTP 408/429/5xx-shaped errors, and network failures. */
export function isTransient(e: unknown): boolean {
  if (e instanceof TransientError) return true
  if (e instanceof HttpError) return false
  if (!e || typeof e !== 'object') return false
  const status = (e as { status?: unknown }).status
  if (typeof status === 'number') return isTransientStatus(status)
  const code = (e as { code?: unknown }).code ?? ((e as { cause?: { code?: unknown } }).cause?.code)
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
  // fetch() reports network failures as a TypeError ("fetch failed", "Unable to connect").
  return e instanceof TypeError && /fetch|connect|network|socket/i.test(e.message)
}

/**
 * Throws for a failed fetch Response: TransientError for 408/429/5xx (with Retry-After), HttpError otherwise.
 * Returns the response unchanged when it is ok.
 */
export async function checkResponse(res: Response, what = 'request'): Promise<Response> {
  if (res.ok) return res
  const body = (await res.text().catch(() => '')).slice(0, 300)
  const message = `${what} failed with HTTP ${res.status}${body ? `: ${body}` : ''}`
  if (isTransientStatus(res.status)) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'))
    throw new TransientError(message, { status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
  }
  throw new HttpError(message, res.status)
}

function parseRetryAfter(h: string | null): number | undefined {
  if (!h) return undefined
  const s = Number(h)
  if (Number.isFinite(s)) return Math.max(0, s * 1000)
  const t = Date.parse(h)
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now())
}

/** Waits `ms`; with a `signal`, a stop ends the wait at once (StoppedError) and clears its timer. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
  if (!signal) return new Promise((r) => setTimeout(r, ms))
  if (signal.aborted) return Promise.reject(new StoppedError())
  return new Promise((resolve, reject) => {
    const stop = () => (clearTimeout(timer), reject(new StoppedError()))
    const timer = setTimeout(() => (signal.removeEventListener('abort', stop), resolve()), ms)
    signal.addEventListener('abort', stop, { once: true })
  })
}

/** Exponential backoff with full jitter: a random wait in [0, min(cap, base * 2^attempt)]. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const base = options.backoffMs ?? 500
  const cap = options.maxBackoffMs ?? 30_000
  return Math.random() * Math.min(cap, base * 2 ** attempt)
}

/**
 * Runs `fn`, retrying transient failures with backoff; the last error is rethrown unchanged. A stop (`signal`) during
 * a backoff ends it with StoppedError instead of trying again.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}, signal?: AbortSignal): Promise<T> {
  const max = options.max ?? 3
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (e) {
      if (attempt >= max || !isTransient(e)) throw e
      const hint = e instanceof TransientError ? e.retryAfterMs : undefined
      await sleep(Math.min(options.maxBackoffMs ?? 30_000, Math.max(hint ?? 0, backoffDelay(attempt, options))), signal)
    }
  }
}
