// Every failure a user can cause is a TesseraError with a stable code; the HTTP layer maps codes to statuses in one
// table (src/server/errors.ts), so the code list here is the contract shared by the library and the API.

export type ErrorCode =
  | 'DIR_NOT_FOUND'
  | 'TABLE_NOT_FOUND'
  | 'COLUMN_NOT_FOUND'
  | 'VERSION_NOT_FOUND'
  | 'INDEX_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'NOT_FOUND'
  | 'DIR_ALREADY_EXISTS'
  | 'TABLE_ALREADY_EXISTS'
  | 'COLUMN_ALREADY_EXISTS'
  | 'INDEX_ALREADY_EXISTS'
  | 'PATH_ALREADY_EXISTS'
  | 'DIR_NOT_EMPTY'
  | 'HAS_DEPENDENTS'
  | 'INVALID_ARGUMENT'
  | 'INVALID_NAME'
  | 'INVALID_TYPE'
  | 'INVALID_ROW'
  | 'INVALID_EXPRESSION'
  | 'INVALID_MEDIA'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CONSTRAINT_VIOLATION'
  | 'READ_ONLY'
  | 'COMPUTATION_FAILED'
  | 'DATA_DIR_LOCKED'
  | 'CONCURRENCY_CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNAVAILABLE'
  | 'INTERNAL'

export class TesseraError extends Error {
  override readonly name: string = 'TesseraError'
  readonly code: ErrorCode
  /** Structured context (row index, column, expression) so callers need not parse the message. */
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.details = details
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: { ...this.details } } : { code: this.code, message: this.message }
  }
}

export class NotFoundError extends TesseraError {
  override readonly name = 'NotFoundError'
}

export class AlreadyExistsError extends TesseraError {
  override readonly name = 'AlreadyExistsError'
}

/** The request itself is wrong: bad names, types, rows or expressions. Never a 500. */
export class RequestError extends TesseraError {
  override readonly name = 'RequestError'
}

export class ConcurrencyError extends TesseraError {
  override readonly name = 'ConcurrencyError'
}

export const notFound = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  new NotFoundError(code, message, details)
export const alreadyExists = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  new AlreadyExistsError(code, message, details)
export const invalid = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  new RequestError(code, message, details)

export function isTesseraError(e: unknown): e is TesseraError {
  return e instanceof TesseraError
}
