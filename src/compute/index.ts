// Public surface of src/compute: user-defined functions and aggregates, retry helpers, background jobs.
export { udf, uda } from './udf.ts'
export type { Udf, UdfOptions, UdaOptions } from './udf.ts'
export { TransientError, HttpError, checkResponse, isTransient, withRetry } from './retry.ts'
export type { RetryOptions } from './retry.ts'
export { Jobs } from './jobs.ts'
export type { JobInfo, JobStatus, StartJobOptions } from './jobs.ts'
