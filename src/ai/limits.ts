import { sleep } from '../compute/index.ts'

// Adaptive limits: providers say how much budget is left (x-ratelimit-remaining-requests / -tokens with a reset
// time, Anthropic's anthropic-ratelimit-*-remaining / -reset) and how long to back off (retry-after). One gate per
// (base URL, key) of a provider client (ProviderClient.gateFor) holds every new request to that account until its
// window reopens, so a 429 on one row pauses the other rows in flight instead of letting each of them hit the limit
// too, and leaves other accounts' calls alone.

/** '1s', '6m0s', '20ms', '1h2m3.5s' (OpenAI), seconds ('2', '0.5'), or an RFC 3339 time (Anthropic) → ms from now. */
export function parseResetMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)]
  if (parts.length && parts.map((p) => p[0]).join('') === v) {
    const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const
    return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0)
  }
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

const BUDGETS = ['requests', 'tokens', 'input-tokens', 'output-tokens']

/** How long the response's headers ask us to hold new requests (0: no hold). */
export function holdFromHeaders(headers: Headers, status: number): number {
  let hold = 0
  if (status === 429 || status === 503) {
    const ra = headers.get('retry-after-ms') ?? undefined
    const wait = ra !== undefined ? Number(ra) : parseResetMs(headers.get('retry-after'))
    if (wait !== undefined && Number.isFinite(wait)) hold = Math.max(hold, wait)
  }
  for (const budget of BUDGETS) {
    // OpenAI: x-ratelimit-remaining-requests; Anthropic: anthropic-ratelimit-requests-remaining.
    for (const [remainingName, resetName] of [[`x-ratelimit-remaining-${budget}`, `x-ratelimit-reset-${budget}`], [`anthropic-ratelimit-${budget}-remaining`, `anthropic-ratelimit-${budget}-reset`]] as const) {
      const remaining = headers.get(remainingName)
      if (remaining === null || Number(remaining) > 0) continue
      const reset = parseResetMs(headers.get(resetName))
      if (reset !== undefined) hold = Math.max(hold, reset)
    }
  }
  // The generic single-budget form (x-ratelimit-remaining / x-ratelimit-reset in seconds).
  if (headers.get('x-ratelimit-remaining') === '0') hold = Math.max(hold, parseResetMs(headers.get('x-ratelimit-reset')) ?? 0)
  return hold
}

export class AdaptiveGate {
  #openAt = 0
  /** Longest hold honoured; a provider asking for more gets retried by the normal backoff instead. */
  readonly maxHoldMs: number

  constructor(maxHoldMs = 60_000) {
    this.maxHoldMs = maxHoldMs
  }

  /**
   * Resolves when new requests may start. A stop (`signal`: the job the request belongs to was cancelled) ends the
   * wait at once with StoppedError: a cancelled job does not sit out a provider's pause (up to maxHoldMs).
   */
  async wait(signal?: AbortSignal): Promise<void> {
    for (let now = Date.now(); now < this.#openAt; now = Date.now()) await sleep(this.#openAt - now, signal)
  }

  note(headers: Headers, status: number): void {
    const hold = Math.min(this.maxHoldMs, holdFromHeaders(headers, status))
    if (hold > 0) this.#openAt = Math.max(this.#openAt, Date.now() + hold)
  }

  /** Ms until the gate opens (0 when open); for tests and diagnostics. */
  get heldForMs(): number {
    return Math.max(0, this.#openAt - Date.now())
  }
}
