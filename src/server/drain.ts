import type { MiddlewareHandler } from 'hono'
import { errorBody } from './errors.ts'

// Graceful shutdown. On SIGTERM the server stops taking work at once (every new request, /health included, answers
// 503: a load balancer or Kubernetes takes the instance out of rotation), lets the requests in flight finish, and
// only then closes the store. A write that has not finished by the drain timeout is cut off with the store: a
// staged write then leaves nothing visible (its rows are removed at the next open).

export class Drain {
  #draining = false
  #inflight = 0
  #idle: (() => void)[] = []

  get draining(): boolean {
    return this.#draining
  }

  get inflight(): number {
    return this.#inflight
  }

  /** Refuse new requests from now on; resolves when those in flight have finished, or false after timeoutMs. */
  async start(timeoutMs: number): Promise<boolean> {
    this.#draining = true
    if (this.#inflight === 0) return true
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = await Promise.race([
      new Promise<boolean>((resolve) => this.#idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ])
    clearTimeout(timer)
    return done
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      if (this.#draining) {
        if (c.req.path === '/health') return c.json({ status: 'draining' }, 503)
        return c.json(errorBody('UNAVAILABLE', 'the server is shutting down; retry on another instance or after it restarts'), 503, { connection: 'close' })
      }
      this.#inflight++
      try {
        await next()
      } finally {
        if (--this.#inflight === 0 && this.#draining) for (const wake of this.#idle.splice(0)) wake()
      }
    }
  }
}
