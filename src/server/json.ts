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
