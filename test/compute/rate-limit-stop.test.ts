import { expect, test } from 'bun:test'
import { RateLimiter, StoppedError } from '../../src/compute/index.ts'

// A caller stopped while it waits for a rate limiter's token (a cancelled job's call) leaves at once, and its turn
// ends with it: before, the turn slept on until the refill and took that token, so the next caller, from another job,
// waited a second refill. One token per REFILL_MS; the bounds are a refill apart, loose for a busy machine.

const REFILL_MS = 4_000

test("a stopped caller's wait for a token ends at once and takes no token from the next caller", async () => {
  const limiter = new RateLimiter(1000 / REFILL_MS, 1)
  await limiter.acquire() // the only token: the next one comes after REFILL_MS
  const t0 = performance.now()
  const stop = new AbortController()
  const stopped = limiter.acquire(stop.signal).then(() => 'got a token', (e: unknown) => e)
  const next = limiter.acquire().then(() => performance.now() - t0)
  await Bun.sleep(100)
  stop.abort()
  expect(await stopped).toBeInstanceOf(StoppedError)
  expect(performance.now() - t0).toBeLessThan(REFILL_MS / 2)
  // The next caller gets the first refill (about REFILL_MS), not the second (about 2 × REFILL_MS).
  expect(await next).toBeLessThan(REFILL_MS * 1.5)
})
