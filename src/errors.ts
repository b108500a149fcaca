// Every failure a user can cause is a TesseraError with a stable code. ERROR_CODES is the one table of codes: the
// error class a code is thrown as, its HTTP status and whether retrying can help all derive from it, so the library,
// the server and the HTTP client agree (a CONCURRENCY_CONFLICT is a ConcurrencyError in-process and over HTTP).

/** Which class a code is thrown as (and caught by). */
export type ErrorFamily = 'not_found' | 'already_exists' | 'invalid' | 'conflict' | 'concurrency' | 'computation' | 'auth' | 'unavailable' | 'internal'

export interface ErrorSpec {
  readonly status: number
  readonly family: ErrorFamily
  /** The same call may succeed later without changing it (a lost race, a busy or stopping server). */
  readonly retryable: boolean
}

const spec = (status: number, family: ErrorFamily, retryable = false): ErrorSpec => ({ status, family, retryable })

export const ERROR_CODES = {
  DIR_NOT_FOUND: spec(404, 'not_found'),
  TABLE_NOT_FOUND: spec(404, 'not_found'),
  COLUMN_NOT_FOUND: spec(404, 'not_found'),
  VERSION_NOT_FOUND: spec(404, 'not_found'),
  INDEX_NOT_FOUND: spec(404, 'not_found'),
  JOB_NOT_FOUND: spec(404, 'not_found'),
  NOT_FOUND: spec(404, 'not_found'),
  DIR_ALREADY_EXISTS: spec(409, 'already_exists'),
  TABLE_ALREADY_EXISTS: spec(409, 'already_exists'),
  COLUMN_ALREADY_EXISTS: spec(409, 'already_exists'),
  INDEX_ALREADY_EXISTS: spec(409, 'already_exists'),
  PATH_ALREADY_EXISTS: spec(409, 'already_exists'),
  DIR_NOT_EMPTY: spec(409, 'conflict'),
  HAS_DEPENDENTS: spec(409, 'conflict'),
  CONSTRAINT_VIOLATION: spec(409, 'conflict'),
  READ_ONLY: spec(409, 'conflict'),
  CONCURRENCY_CONFLICT: spec(409, 'concurrency', true),
  INVALID_ARGUMENT: spec(400, 'invalid'),
  INVALID_NAME: spec(400, 'invalid'),
  INVALID_TYPE: spec(400, 'invalid'),
  INVALID_ROW: spec(400, 'invalid'),
  INVALID_EXPRESSION: spec(400, 'invalid'),
  INVALID_MEDIA: spec(400, 'invalid'),
  TOO_LARGE: spec(413, 'invalid'),
  UNSUPPORTED_MEDIA_TYPE: spec(415, 'invalid'),
  COMPUTATION_FAILED: spec(422, 'computation'),
  DATA_DIR_LOCKED: spec(423, 'unavailable', true),
  UNAUTHORIZED: spec(401, 'auth'),
  FORBIDDEN: spec(403, 'auth'),
  UNAVAILABLE: spec(503, 'unavailable', true),
  /** The data dir's catalog could not be brought to this build's schema (too new, or a migration failed). */
  MIGRATION_FAILED: spec(500, 'internal'),
  INTERNAL: spec(500, 'internal'),
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CODES

export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)

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

  get status(): number { return ERROR_CODES[this.code].status }
  get family(): ErrorFamily { return ERROR_CODES[this.code].family }
  get retryable(): boolean { return ERROR_CODES[this.code].retryable }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: { ...this.details } } : { code: this.code, message: this.message }
  }
}

export class NotFoundError extends TesseraError {
  override readonly name: string = 'NotFoundError'
}

export class AlreadyExistsError extends TesseraError {
  override readonly name: string = 'AlreadyExistsError'
}

/** The request itself is wrong: bad names, types, rows or expressions. Never a 500. */
export class RequestError extends TesseraError {
  override readonly name: string = 'RequestError'
}

/** The request is well formed but the data's state refuses it (a duplicate key, dependents, a read-only table). */
export class ConflictError extends RequestError {
  override readonly name: string = 'ConflictError'
}

/** Another write came first; the same call may succeed when retried. */
export class ConcurrencyError extends TesseraError {
  override readonly name: string = 'ConcurrencyError'
}

/** A computed column, UDF or iterator failed on the data. */
export class ComputationError extends TesseraError {
  override readonly name: string = 'ComputationError'
}

/** Missing, unknown or insufficient credentials. */
export class AuthError extends TesseraError {
  override readonly name: string = 'AuthError'
}

/** The service (or a resource it needs) cannot serve now: a locked data dir, a missing extension, a stopping server. */
export class UnavailableError extends TesseraError {
  override readonly name: string = 'UnavailableError'
}

type ErrorClass = new (code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) => TesseraError

const CLASS_OF: Record<ErrorFamily, ErrorClass> = {
  not_found: NotFoundError,
  already_exists: AlreadyExistsError,
  invalid: RequestError,
  conflict: ConflictError,
  concurrency: ConcurrencyError,
  computation: ComputationError,
  auth: AuthError,
  unavailable: UnavailableError,
  internal: TesseraError,
}

/** The error for a code, as the class its family names: the one way an error is built from a code. */
export function errorOf(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }): TesseraError {
  return new CLASS_OF[ERROR_CODES[code].family](code, message, details, options)
}

// The helpers below read well at call sites; the class still follows the code (invalid('READ_ONLY') is a ConflictError).
export const notFound = (code: ErrorCode, message: string, details?: Record<string, unknown>) => errorOf(code, message, details)
export const alreadyExists = (code: ErrorCode, message: string, details?: Record<string, unknown>) => errorOf(code, message, details)
export const invalid = (code: ErrorCode, message: string, details?: Record<string, unknown>) => errorOf(code, message, details)
export const conflict = (code: ErrorCode, message: string, details?: Record<string, unknown>) => errorOf(code, message, details)

/**
 * An option is never silently ignored: names an options object has that `known` does not are refused, with the names
 * the call takes. Here, beside the errors, so that every folder can use it (the catalog, and the embedders the catalog
 * imports through src/index).
 */
/**
 * Refuses options a call does not take, by name. `known`: the option names, or for each the values it takes (`true`:
 * any), so a value outside them is refused too: from JavaScript or JSON, `dropColumn('s', { ifNotExists: 'replace' })`
 * dropped the column as if no option had been given.
 */
export function refuseUnknownOptions(call: string, options: object | undefined, known: readonly string[] | Readonly<Record<string, readonly unknown[] | true>>): void {
  if (!options || typeof options !== 'object') return
  const values = options as Record<string, unknown>
  const names: readonly string[] = isNameList(known) ? known : Object.keys(known)
  const unknown = Object.keys(options).filter((k) => !names.includes(k) && values[k] !== undefined)
  if (unknown.length > 0) throw invalid('INVALID_ARGUMENT', `${call}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; it takes ${names.map((k) => `'${k}'`).join(', ')}`, { option: unknown[0] })
  if (isNameList(known)) return
  for (const [name, allowed] of Object.entries(known)) {
    const value = values[name]
    if (value === undefined || allowed === true || allowed.includes(value)) continue
    // A flag in the words the library and the HTTP API already use for one (BoolOption, src/api/request-pieces.ts).
    if (allowed === OPTION_VALUES.flag) throw invalid('INVALID_ARGUMENT', `${call}: ${name} must be true or false, got ${String(JSON.stringify(value)).slice(0, 60)}`, { option: name })
    throw invalid('INVALID_ARGUMENT', `${call}: option '${name}' takes ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${String(JSON.stringify(value)).slice(0, 60)}`, { option: name })
  }
}

const isNameList = (known: readonly string[] | Readonly<Record<string, unknown>>): known is readonly string[] => Array.isArray(known)

/** The values of the options most calls share, for refuseUnknownOptions. */
export const OPTION_VALUES = {
  ifExists: ['error', 'ignore', 'replace', 'replace_force'],
  ifNotExists: ['error', 'ignore'],
  onError: ['abort', 'ignore'],
  flag: [true, false],
} as const

export function isTesseraError(e: unknown): e is TesseraError {
  return e instanceof TesseraError
}
