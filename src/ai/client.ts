import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import type { CallPolicy, RetryOptions } from '../compute/index.ts'
import { runChunks, RateLimiter, Semaphore, checkResponse, stopSignal, throwIfStopped, TransientError } from '../compute/index.ts'
import { expectKinds, RowFailure } from '../query/index.ts'
import type { ColumnType } from '../types/index.ts'
import { listedEvents, modelOf, serverSentEvents } from './common.ts'
import type { SseEvent } from './common.ts'
import { refuseRedirect, scrubUrl, shownUrl } from './endpoint.ts'
import { isTimeout, readFailure, readJson } from './reading.ts'
import { TesseraError } from '../errors.ts'
import { restrictedCaller } from '../media/index.ts'
import type { FnNode } from '../query/index.ts'
import { checkProviderConfig } from './config-check.ts'
import { AdaptiveGate } from './limits.ts'
import { sendOutbound } from './outbound.ts'
import { requestAbort, stoppedInFlight } from './abort.ts'

// The client core every provider module shares: where requests go (base URL and key from configure(), else the
// environment), how they are throttled (concurrency, optional rate limit, the adaptive gate fed by the provider's
// rate-limit headers) and retried (408/429/5xx and network errors, with backoff honouring retry-after). Keys are never
// stored in expressions, so the catalog holds no secret, and error messages name the endpoint (shownUrl: no userinfo
// or query string), never the key.

export interface ProviderConfig {
  readonly baseUrl?: string
  readonly apiKey?: string
  /** Extra headers (organisation, project, proxies). */
  readonly headers?: Record<string, string>
  /** Requests in flight at once, over all columns and queries (default 8). */
  readonly concurrency?: number
  readonly rateLimit?: { readonly perSecond: number }
  /** Default: 4 retries, 500 ms first backoff. */
  readonly retries?: RetryOptions
  /** Per request (default 120 s). */
  readonly timeoutMs?: number
  /** Texts per embeddings request (default 64). */
  readonly embeddingBatchSize?: number
}

export interface ProviderSpec {
  /** 'openai', 'anthropic', 'gemini', 'ollama'...: names the functions (`<name>.chat`) and the environment variables. */
  readonly name: string
  readonly defaultBaseUrl: string
  /** Environment variables read for the base URL and key, first set wins (TESSERA_<NAME>_* come first). */
  readonly baseUrlEnv?: readonly string[]
  readonly apiKeyEnv?: readonly string[]
  /** Request headers carrying the key. */
  readonly authHeaders: (key: string) => Record<string, string>
  /** Headers every request carries (anthropic-version...). */
  readonly fixedHeaders?: Record<string, string>
}

// A database's own provider settings (Tessera.open({ providers: { openai: { baseUrl, apiKey } } })): its execution
// context (src/catalog/context.ts) enters them, so two databases in one process can talk to different endpoints with
// different keys. They override, per provider, what configure() set for the whole process.
const scopedConfigs = new AsyncLocalStorage<Readonly<Record<string, ProviderConfig>>>()

/** Runs fn (and everything it awaits) with these per-provider settings over the process-wide ones. */
export function withProviderConfigs<T>(configs: Readonly<Record<string, ProviderConfig>>, fn: () => Promise<T>): Promise<T> {
  return scopedConfigs.run(configs, fn)
}

export class ProviderClient {
  readonly spec: ProviderSpec
  #config: ProviderConfig = {}
  #policy: CallPolicy
  // One adaptive gate per (base URL, key): a budget spent is that account's on that server, so one database's pause
  // must not hold another database's calls to another server with another key (withProviderConfigs). Keyed by a hash
  // so the map holds no key.
  #gates = new Map<string, AdaptiveGate>()

  constructor(spec: ProviderSpec) {
    this.spec = spec
    this.#policy = buildPolicy(this.#config)
  }

  configure(options: ProviderConfig): void {
    checkProviderConfig(`${this.spec.name}.configure()`, options)
    this.#config = { ...this.#config, ...options }
    this.#policy = buildPolicy(this.#config)
    this.#scopedPolicies = new WeakMap()
  }

  /** The settings in force: the running database's for this provider over the process-wide ones. */
  get config(): ProviderConfig {
    const own = scopedConfigs.getStore()?.[this.spec.name]
    return own ? { ...this.#config, ...own } : this.#config
  }

  get policy(): CallPolicy {
    const own = scopedConfigs.getStore()?.[this.spec.name]
    if (!own) return this.#policy
    let policy = this.#scopedPolicies.get(own)
    if (!policy) this.#scopedPolicies.set(own, (policy = buildPolicy({ ...this.#config, ...own })))
    return policy
  }

  #scopedPolicies = new WeakMap<ProviderConfig, CallPolicy>()

  #env(names: readonly string[] | undefined, own: string): string | undefined {
    for (const n of [`TESSERA_${this.spec.name.toUpperCase()}_${own}`, ...(names ?? [])]) {
      const value = process.env[n]
      if (value) return value
    }
    return undefined
  }

  /** Plan-time check of a prompt function: a string or JSON prompt first, a model (or the default), no baseUrl from a scoped token. */
  checkPrompt(types: readonly ColumnType[], node: FnNode, defaultModel: string): void {
    expectKinds(node, types, 0, ['string', 'json'])
    modelOf(node, defaultModel)
    this.checkBaseUrlOption(node)
  }

  /** One request per row, under this provider's concurrency, rate limit and retries. */
  perRow<R>(inputs: readonly unknown[], fn: (i: number) => Promise<R>): Promise<R[]> {
    // A row that fails (after its retries) is that row's failure alone: the other rows' answers are kept, not asked
    // again (src/query/evaluator.ts, RowFailure).
    return runChunks<number, R | RowFailure>(inputs.map((_, i) => i), 1, this.policy, async ([i]) => [await fn(i!)], (e) => [new RowFailure(e)]) as Promise<R[]>
  }

  /** The server's key goes to whatever base URL is used: a scoped token may not choose one (it could collect the key). */
  checkBaseUrlOption(node: FnNode): void {
    const who = node.opts?.baseUrl !== undefined ? restrictedCaller() : undefined
    if (who) throw new TesseraError('FORBIDDEN', `${who} may not set opts.baseUrl of ${node.fn}(): the server's base URL (TESSERA_${this.spec.name.toUpperCase()}_BASE_URL) is used with its API key; only admin tokens choose another`)
  }

  baseUrl(node?: FnNode): string {
    const fromOpts = typeof node?.opts?.baseUrl === 'string' ? node.opts.baseUrl : undefined
    if (node) this.checkBaseUrlOption(node) // again at call time: a background job may outlive the request that planned it
    const url = fromOpts ?? this.config.baseUrl ?? this.#env(this.spec.baseUrlEnv, 'BASE_URL') ?? this.spec.defaultBaseUrl
    return url.replace(/\/+$/, '')
  }

  apiKey(): string | undefined {
    return this.config.apiKey ?? this.#env(this.spec.apiKeyEnv, 'API_KEY')
  }

  /** Per request, reading the body included (default 120 s). */
  get timeoutMs(): number {
    return this.config.timeoutMs ?? 120_000
  }

  /** How messages name a request: `POST <url>` without credentials or query string. */
  where(node: FnNode | undefined, path: string): string {
    return `POST ${shownUrl(`${this.baseUrl(node)}${path}`)}`
  }

  /** The base URL as messages may show it. */
  shownBaseUrl(node?: FnNode): string {
    return shownUrl(this.baseUrl(node))
  }

  /** The rate-limit gate of requests to `baseUrl` with `key`. */
  gateFor(baseUrl: string, key: string | undefined): AdaptiveGate {
    const id = `${baseUrl}\n${key === undefined ? '' : createHash('sha256').update(key).digest('base64')}`
    let gate = this.#gates.get(id)
    if (!gate) {
      // Gates that hold nothing are forgotten once many (base URLs from opts.baseUrl) have been seen.
      if (this.#gates.size >= 256) for (const [k, g] of this.#gates) if (g.heldForMs === 0) this.#gates.delete(k)
      this.#gates.set(id, (gate = new AdaptiveGate()))
    }
    return gate
  }

  /** The gate of the settings in force (the running database's base URL and key); for tests and diagnostics. */
  get gate(): AdaptiveGate {
    return this.gateFor(this.baseUrl(), this.apiKey())
  }

  /**
   * One POST, gated by the provider's rate-limit state, whose answer `read` takes (the body included, under the same
   * timeout and stop). Failures become TransientError (retried) or HttpError.
   *
   * Under a stop signal (src/compute/stop.ts: a background job being cancelled, closed, or its table dropped), the
   * request is aborted where it is (waiting at the gate, waiting for headers, reading the body) and fails with
   * StoppedError: its row is not done, neither a result nor an error, so a resumed job asks again; and a stop is not
   * a failure worth a retry, so no backoff is slept out after it (withRetry rethrows it at once).
   */
  async #exchange<R>(node: FnNode | undefined, path: string, body: unknown, read: (res: Response, where: string) => Promise<R>): Promise<R> {
    // Read where the call is set up, in the job's async context (as runChunks does), and used for this whole exchange.
    const stop = stopSignal()
    const key = this.apiKey()
    const base = this.baseUrl(node)
    const url = `${base}${path}`
    const where = `POST ${shownUrl(url)}`
    const gate = this.gateFor(base, key)
    await gate.wait(stop)
    throwIfStopped(stop)
    const abort = requestAbort(this.timeoutMs, stop)
    try {
      let res: Response
      try {
        res = await sendOutbound(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.spec.fixedHeaders, ...(key ? this.spec.authHeaders(key) : {}), ...this.config.headers },
          body: JSON.stringify(body),
          redirect: 'manual', // see refuseRedirect: the key goes to the base URL only
          signal: abort.signal,
        })
      } catch (e) {
        if (stop?.aborted) throw e // reported as a stop below
        // Timeouts and refused connections are worth a retry; the message names the endpoint, never the key.
        const why = isTimeout(e) ? `no response within ${this.timeoutMs} ms (timeoutMs)` : scrubUrl(String((e as Error)?.message ?? e), url)
        throw new TransientError(`${where} failed: ${why}`, { cause: e })
      }
      gate.note(res.headers, res.status)
      refuseRedirect(res, url, where)
      return await read(await checkResponse(res, where), where)
    } catch (e) {
      // Whatever the cut made of the request (an AbortError, a body read failed, a stream ended early), it was the
      // stop's doing: the cell must not keep it as its error.
      throw stop?.aborted ? stoppedInFlight() : e
    } finally {
      abort.release()
    }
  }

  /** One POST whose answer is a JSON object (or list). */
  post(node: FnNode | undefined, path: string, body: unknown): Promise<unknown> {
    return this.#exchange(node, path, body, (res, where) => readJson(res, where, this.timeoutMs))
  }

  /**
   * One POST asking for a stream, assembled into the answer a plain call returns. A server that answered plain JSON
   * instead (a proxy or compatible server ignoring `stream`) is taken at its word: an object is that answer, a list
   * is the stream's chunks.
   */
  stream<R>(node: FnNode | undefined, path: string, body: unknown, assemble: (events: AsyncIterable<SseEvent>, where: string) => Promise<R>): Promise<R> {
    return this.#exchange(node, path, body, async (res, where) => {
      const type = res.headers.get('content-type') ?? ''
      if (/json/i.test(type) && !/event-stream/i.test(type)) {
        const value = await readJson(res, where, this.timeoutMs)
        return Array.isArray(value) ? assemble(listedEvents(value), where) : (value as R)
      }
      try {
        return await assemble(serverSentEvents(res, where), where)
      } catch (e) {
        throw readFailure(e, where, this.timeoutMs, 'the stream')
      }
    })
  }
}

function buildPolicy(c: ProviderConfig): CallPolicy {
  return {
    semaphore: new Semaphore(c.concurrency ?? 8),
    ...(c.rateLimit ? { limiter: new RateLimiter(c.rateLimit.perSecond) } : {}),
    retries: c.retries ?? { max: 4, backoffMs: 500 },
  }
}
