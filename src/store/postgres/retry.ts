// Which server errors mean "run the transaction again", and how long to wait first.

/** serialization_failure and deadlock_detected: PostgreSQL rolled the transaction back and asks for a retry. */
const RETRYABLE = new Set(['40001', '40P01'])

export function isRetryable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && RETRYABLE.has(String((e as { code?: unknown }).code))
}

/**
 * Full-jitter exponential backoff (2 ms · 2^attempt, capped at 500 ms): processes that collided once pick
 * different delays, so they do not collide again in lockstep.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(500, 2 * 2 ** attempt)
  return Math.floor(random() * cap) + 1
}
