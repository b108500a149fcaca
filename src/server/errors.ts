import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import * as v from 'valibot'
import type { ErrorCode } from '../errors.ts'
import { ERROR_CODES, TesseraError } from '../errors.ts'
import type { Principal } from './auth.ts'
import { redactForeignNames } from './tenant.ts'

// The one place errors become HTTP responses: body { error: { code, message, details? } }, status from the code's
// row in ERROR_CODES.
// Bad input is always 4xx; only bugs are 500.

/** HTTP status per code, derived from the one code table (src/errors.ts). */
export const STATUS = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.status])) as Record<ErrorCode, number>

export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ? { details } : {}) } }
}

export function toErrorResponse(err: unknown, c: Context, log: (msg: string, e: unknown) => void = console.error): Response {
  if (err instanceof TesseraError) {
    // Errors never name another tenant's objects (a revert refused because of B's snapshot, say).
    const e = redactForeignNames((c.var as { principal?: Principal } | undefined)?.principal, err)
    return c.json(errorBody(e.code, e.message, e.details ? { ...e.details } : undefined), e.status as 400)
  }
  if (err instanceof v.ValiError) {
    const issue = err.issues[0]
    const path = issue.path?.map((p: { key: unknown }) => String(p.key)).join('.') ?? ''
    return c.json(errorBody('INVALID_ARGUMENT', `${path ? `${path}: ` : ''}${issue.message}`, path ? { path } : undefined), 400)
  }
  if (err instanceof HTTPException) {
    const status = err.status
    const code: ErrorCode = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'
    return c.json(errorBody(code, err.message || 'request failed'), status)
  }
  log(`internal error on ${c.req.method} ${c.req.path}`, err)
  return c.json(errorBody('INTERNAL', 'internal error; see the server log'), 500)
}

type ErrorPayload = ReturnType<typeof errorBody>['error']

const csvField = (s: string): string => `"${s.replaceAll('"', '""').replace(/[\r\n]+/g, ' ')}"`

/**
 * The record that ends a stream failing after its first byte, when its status is sent already: JSON Lines, one line
 * {"$error": {code, message}}; CSV, a last line $error,CODE,"message". The routes (query.ts, io.ts) and the drain's
 * cut-off (drain.ts) end their streams with it.
 */
export function streamErrorRecord(format: 'jsonl' | 'csv', error: ErrorPayload): string {
  return format === 'jsonl' ? `${JSON.stringify({ $error: error })}\n` : `\n$error,${error.code},${csvField(error.message)}\n`
}

/** An error as JSON for places that cannot change the status any more (the last line of a stream). */
export function errorPayload(err: unknown, log: (msg: string, e: unknown) => void = console.error): ReturnType<typeof errorBody>['error'] {
  if (err instanceof TesseraError) return errorBody(err.code, err.message, err.details ? { ...err.details } : undefined).error
  log('internal error in a stream', err)
  return errorBody('INTERNAL', 'internal error; see the server log').error
}
