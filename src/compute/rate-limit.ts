import { sleep } from './retry.ts'

// Process-wide throttles for UDFs that call services: a token bucket for requests per second and a semaphore for
// requests in flight. One instance per function definition, so every column and query using it shares the budget.

export class RateLimiter {
  readonly #perSecond: number
  readonly #burst: number
  #tokens: number
  #last = performance.now()
  #queue: Promise<void> = Promise.resolve()

  constructor(perSecond: number, burst = Math.max(1, Math.ceil(perSecond))) {
    if (!(perSecond > 0)) throw new RangeError(`rateLimit.perSecond must be > 0, got ${perSecond}`)
    this.#perSecond = perSecond
    this.#burst = burst
    this.#tokens = burst
  }

  /** Resolves when one more call may start. Callers are served in arrival order. */
  acquire(): Promise<void> {
    const turn = this.#queue.then(() => this.#take())
    this.#queue = turn
    return turn
  }

  async #take(): Promise<void> {
    for (;;) {
      const now = performance.now()
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond)
      this.#last = now
      if (this.#tokens >= 1) {
        this.#tokens -= 1
        return
      }
      await sleep(((1 - this.#tokens) / this.#perSecond) * 1000)
    }
  }
}

export class Semaphore {
  readonly #max: number
  #active = 0
  readonly #waiting: (() => void)[] = []

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`concurrency must be >= 1, got ${max}`)
    this.#max = Math.floor(max)
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#max) await new Promise<void>((r) => this.#waiting.push(r))
    this.#active++
    try {
      return await fn()
    } finally {
      this.#active--
      this.#waiting.shift()?.()
    }
  }
}
