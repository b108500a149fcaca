import type { RateLimiter, Semaphore } from './rate-limit.ts'
import type { RetryOptions } from './retry.ts'
import { withRetry } from './retry.ts'

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
 */
export async function runChunks<T, R>(items: readonly T[], size: number, policy: CallPolicy, call: (chunk: T[]) => Promise<readonly R[]>, onChunkFailure?: (error: unknown, chunk: T[]) => readonly R[]): Promise<R[]> {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  const once = async (chunk: T[]): Promise<readonly R[]> => {
    const attempt = async () => {
      await policy.limiter?.acquire()
      const out = await call(chunk)
      if (!Array.isArray(out) || out.length !== chunk.length) {
        throw new Error(`a batched function must return one result per input: got ${Array.isArray(out) ? out.length : typeof out} for ${chunk.length}`)
      }
      return out
    }
    const retries = policy.retries
    const retried = retries ? () => withRetry(attempt, retries) : attempt
    return policy.semaphore ? policy.semaphore.run(retried) : retried()
  }
  const settled = await Promise.allSettled(chunks.map(once))
  if (onChunkFailure) return settled.flatMap((s, k) => [...(s.status === 'fulfilled' ? s.value : onChunkFailure(s.reason, chunks[k]!))])
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  return settled.flatMap((s) => [...(s as PromiseFulfilledResult<readonly R[]>).value])
}
