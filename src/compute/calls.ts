import { RowFailure } from '../query/index.ts'
import type { RateLimiter, Semaphore } from './rate-limit.ts'
import type { RetryOptions } from './retry.ts'
import { withRetry } from './retry.ts'
import { StoppedError, stopSignal, throwIfStopped } from './stop.ts'

// How a UDF's calls are made: inputs cut into chunks (batch size), chunks run under a concurrency limit and a rate
// limit, each chunk retried on transient failures. Shared by user UDFs and built-in service functions (openai).

export interface CallPolicy {
  readonly semaphore?: Semaphore
  readonly limiter?: RateLimiter
  /** Absent or false: no retries. */
  readonly retries?: RetryOptions | false
}

/**
 * Calls `call` once per chunk of `size` items and returns the results in input order. All chunks settle before a
 * failure is reported, so no call is left running unobserved. With `onChunkFailure`, a chunk that failed (after its
 * retries) answers what it returns for its items instead (per-row functions: a RowFailure for that row alone).
 *
 * Under a stop signal (src/compute/stop.ts: a background job being cancelled), a chunk not yet started when it fires
 * is never called: each of its items answers a RowFailure(StoppedError), while the chunks that were answered keep
 * their results, so the caller can keep what it paid for. Calls in flight finish, or abort when their function passes
 * stopSignal() on to its requests (the provider client does: a call it cut off fails with StoppedError, so its items
 * answer RowFailure(StoppedError) too, and a retry's backoff or a rate-limit wait ends at the stop).
 */
export async function runChunks<T, R>(items: readonly T[], size: number, policy: CallPolicy, call: (chunk: T[]) => Promise<readonly R[]>, onChunkFailure?: (error: unknown, chunk: T[]) => readonly R[]): Promise<R[]> {
  // Read here, in the caller's context: the chunks' callbacks run when a shared semaphore lets them, in whichever
  // context released it.
  const signal = stopSignal()
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  const once = async (chunk: T[]): Promise<readonly R[]> => {
    const attempt = async () => {
      await policy.limiter?.acquire(signal)
      throwIfStopped(signal)
      const out = await call(chunk)
      if (!Array.isArray(out) || out.length !== chunk.length) {
        throw new Error(`a batched function must return one result per input: got ${Array.isArray(out) ? out.length : typeof out} for ${chunk.length}`)
      }
      return out
    }
    const retries = policy.retries
    const retried = retries ? () => withRetry(attempt, retries, signal) : attempt
    throwIfStopped(signal)
    return policy.semaphore ? policy.semaphore.run(retried, signal) : retried()
  }
  const settled = await Promise.allSettled(chunks.map(once))
  const stopped = (s: PromiseSettledResult<readonly R[]>): boolean => s.status === 'rejected' && s.reason instanceof StoppedError
  const results = (s: PromiseSettledResult<readonly R[]>, k: number): readonly R[] =>
    s.status === 'fulfilled' ? s.value : stopped(s) ? chunks[k]!.map(() => new RowFailure(s.reason) as R) : onChunkFailure!(s.reason, chunks[k]!)
  if (onChunkFailure) return settled.flatMap((s, k) => [...results(s, k)])
  const failed = settled.find((s) => s.status === 'rejected' && !stopped(s))
  if (failed) throw (failed as PromiseRejectedResult).reason
  return settled.flatMap((s, k) => [...results(s, k)])
}
