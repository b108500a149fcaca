import { sleep } from './retry.ts'
import { StoppedError, stoppable } from './stop.ts'

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

  /**
   * Resolves when one more call may start. Callers are served in arrival order. A caller whose `signal` fired leaves
   * at once (StoppedError), and its turn takes no token: a cancelled job's queued calls do not hold back the others.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(() => this.#take(signal))
    this.#queue = turn
    return stoppable(signal, turn)
  }

  /**
   * Takes a token, waiting for one to come. A stop ends the wait too (not only the caller's, which stoppable ends):
   * the callers queued behind a stopped one get their turn at once instead of after its refill. Never rejects, so
   * the queue's chain stays fulfilled.
   */
  async #take(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      if (signal?.aborted) return
      const now = performance.now()
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond)
      this.#last = now
      if (this.#tokens >= 1) {
        this.#tokens -= 1
        return
      }
      await sleep(((1 - this.#tokens) / this.#perSecond) * 1000, signal).catch(() => undefined)
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

  /** Runs `fn` once a slot is free; a caller whose `signal` fires while it waits leaves the queue (StoppedError). */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#enter(signal)
    try {
      return await fn()
    } finally {
      this.#leave()
    }
  }

  #enter(signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < this.#max) {
      this.#active++
      return Promise.resolve()
    }
    if (signal?.aborted) return Promise.reject(new StoppedError())
    return new Promise<void>((resolve, reject) => {
      // A slot is handed over to a waiter (#leave): once woken, a waiter owns it, so a stop only takes out a waiter
      // still queued, and no slot is lost or given twice.
      const stop = () => {
        const at = this.#waiting.indexOf(wake)
        if (at < 0) return
        this.#waiting.splice(at, 1)
        reject(new StoppedError())
      }
      const wake = () => {
        signal?.removeEventListener('abort', stop)
        resolve()
      }
      signal?.addEventListener('abort', stop, { once: true })
      this.#waiting.push(wake)
    })
  }

  #leave(): void {
    const next = this.#waiting.shift()
    if (next) next()
    else this.#active--
  }
}
