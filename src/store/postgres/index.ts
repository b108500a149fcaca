export { ADVISORY_NAMESPACE, PostgresDriver } from './driver.ts'
export type { PostgresOpenOptions } from './driver.ts'
export { isRetryable, retryDelayMs } from './retry.ts'
