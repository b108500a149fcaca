// Public surface of src/compute: user-defined functions and aggregates, batching, rate limits and retries. Computed-column
// planning and the backfill jobs are catalog code (src/catalog/computed.ts, jobs.ts).
export { udf, uda } from './udf.ts'
export type { Udf, UdfOptions, UdaOptions } from './udf.ts'
export { TransientError, HttpError, checkResponse, isTransient, withRetry } from './retry.ts'
export type { RetryOptions } from './retry.ts'
// What other folders import from this one (added by the barrels codemod).
export { runChunks } from './calls.ts'
export type { CallPolicy } from './calls.ts'
export { RateLimiter, Semaphore } from './rate-limit.ts'
export { sleep } from './retry.ts'
export { STOPPED, StoppedError, stopSignal, throwIfStopped, withStopSignal } from './stop.ts'
