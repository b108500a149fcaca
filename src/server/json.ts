import type { Context } from 'hono'
import { streamedBody } from './drain.ts'

export { readJson, readJsonObject } from './request.ts'

// JSON in and out. Requests are read and validated in request.ts; responses encode bytes as base64 and
// Dates as ISO strings, the forms the API documents for binary and timestamp values.

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return value
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' }

/** Response.json with the API's encoding of bytes. */
export function sendJson(c: Context, data: unknown, status = 200): Response {
  if (hasManyRows(data)) return c.body(slicedJson(data, jsonReplacer), status as 200, JSON_TYPE)
  return c.body(JSON.stringify(data, jsonReplacer), status as 200, JSON_TYPE)
}

/**
 * A query answer ({columns, rows}): only binary columns hold bytes, so without one the rows are written by plain
 * JSON.stringify (a replacer function is called for every value, which costs more than the rest of a point read).
 */
export function sendRows(c: Context, data: { readonly columns: readonly { readonly type: string }[] }, status = 200): Response {
  const replacer = data.columns.some((col) => col.type.includes('binary')) ? jsonReplacer : undefined
  if (hasManyRows(data)) return c.body(slicedJson(data, replacer), status as 200, JSON_TYPE)
  return c.body(JSON.stringify(data, replacer), status as 200, JSON_TYPE)
}

// An answer of many rows (up to the 100,000-row cap: ~10 MB, 50-100 ms of JSON.stringify) is written as a stream of
// slices of rows, a turn of the event loop between two slices, so the serving thread answers other requests (a
// /health probe) while it goes out. The text is what JSON.stringify gives for the whole object.
const SLICED_ANSWER_ROWS = 2_000
const ROWS_PER_SLICE = 1_000

type Replacer = (key: string, value: unknown) => unknown

function hasManyRows(data: unknown): data is Record<string, unknown> & { rows: unknown[] } {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || 'toJSON' in data) return false
  const rows = (data as { rows?: unknown }).rows
  return Array.isArray(rows) && rows.length > SLICED_ANSWER_ROWS
}

export function slicedJson(data: Record<string, unknown> & { rows: unknown[] }, replacer: Replacer | undefined): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  // The members before and after "rows", each as JSON.stringify writes it (undefined values and functions left out).
  const member = (key: string): string | undefined => {
    const value = JSON.stringify(data[key], replacer)
    return value === undefined ? undefined : `${JSON.stringify(key)}:${value}`
  }
  const keys = Object.keys(data)
  const at = keys.indexOf('rows')
  const before = keys.slice(0, at).map(member).filter((m) => m !== undefined)
  const after = keys.slice(at + 1).map(member).filter((m) => m !== undefined)
  const rows = data.rows
  let next = 0
  // Marked streamed: on SIGTERM the drain waits until it has been sent (src/server/drain.ts).
  return streamedBody(new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`{${before.map((m) => `${m},`).join('')}"rows":[`))
    },
    async pull(controller) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      const end = Math.min(rows.length, next + ROWS_PER_SLICE)
      // A slice's array text without its brackets: one native call per slice, not one per row.
      const text = JSON.stringify(rows.slice(next, end), replacer).slice(1, -1)
      controller.enqueue(encoder.encode(next === 0 ? text : `,${text}`))
      next = end
      if (next >= rows.length) {
        controller.enqueue(encoder.encode(`]${after.map((m) => `,${m}`).join('')}}`))
        controller.close()
      }
    },
  }))
}
