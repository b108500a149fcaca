import type { Context } from 'hono'

export { readJson, readJsonObject } from './request.ts'

// JSON in and out. Requests are read and validated in request.ts; responses encode bytes as base64 and
// Dates as ISO strings, the forms the API documents for binary and timestamp values.

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return value
}

/** Response.json with the API's encoding of bytes. */
export function sendJson(c: Context, data: unknown, status = 200): Response {
  return c.body(JSON.stringify(data, jsonReplacer), status as 200, { 'content-type': 'application/json; charset=utf-8' })
}

/**
 * A query answer ({columns, rows}): only binary columns hold bytes, so without one the rows are written by plain
 * JSON.stringify (a replacer function is called for every value, which costs more than the rest of a point read).
 */
export function sendRows(c: Context, data: { readonly columns: readonly { readonly type: string }[] }, status = 200): Response {
  const bytes = data.columns.some((col) => col.type.includes('binary'))
  return c.body(bytes ? JSON.stringify(data, jsonReplacer) : JSON.stringify(data), status as 200, { 'content-type': 'application/json; charset=utf-8' })
}
