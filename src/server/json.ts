import * as v from 'valibot'
import type { Context } from 'hono'
import { invalid } from '../errors.ts'

// JSON in and out. Requests are parsed once and validated with valibot; responses encode bytes as base64 and
// Dates as ISO strings, the forms the API documents for binary and timestamp values.

export async function readJson<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  let body: unknown
  try {
    const text = await c.req.text()
    body = text.trim() === '' ? {} : JSON.parse(text)
  } catch (e) {
    throw invalid('INVALID_ARGUMENT', `request body is not valid JSON: ${(e as Error).message}`)
  }
  return v.parse(schema, body)
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return value
}

/** Response.json with the API's encoding of bytes. */
export function sendJson(c: Context, data: unknown, status = 200): Response {
  return c.body(JSON.stringify(data, jsonReplacer), status as 200, { 'content-type': 'application/json; charset=utf-8' })
}

export const boolQuery = (s: string | undefined): boolean | undefined => (s === undefined ? undefined : s === '' || s === 'true' || s === '1')
