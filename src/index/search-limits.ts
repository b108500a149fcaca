import { invalid } from '../errors.ts'

// The bounds every way into search shares (library, HTTP body schemas, MCP), so a request one accepts is not refused
// by another.

/** The most rows one search answers (k). */
export const SEARCH_MAX_K = 1000

/** The most candidates hybrid search takes from each side. */
export const SEARCH_MAX_CANDIDATES = 10_000

/**
 * The most dimensions an index's vectors (and so a query vector) may have: pgvector's `vector` type holds at most
 * 16,000, and every index's vectors are cast to it, so a longer column could be indexed while empty and then refused
 * every row ("dimensions for type vector cannot exceed 16000").
 */
export const MAX_VECTOR_DIMS = 16_000

/** Refuses a value that is not an integer from min to max, naming the call and the option. */
export function checkIntOption(call: string, name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid('INVALID_ARGUMENT', `${call}: ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`, { option: name })
  }
}
