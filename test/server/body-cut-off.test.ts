import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A client that goes away in the middle of an upload: the request body's stream fails (Bun: a DOMException
// AbortError, "The connection was closed."). That is the client's doing, not a bug: a 400 and no "internal error"
// dump in the log, on every route that reads a JSON body: a big body streamed in slices (content-length over the
// small-body size), a small one read whole, and one of unknown length, which the body limit collects first.

let db: Tessera
let app: ReturnType<typeof createApp>
let t: Awaited<ReturnType<Tessera['createTable']>>
const logged: unknown[][] = []
const consoleError = console.error

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  t = await db.createTable('t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  console.error = (...args: unknown[]) => { logged.push(args) }
})
afterAll(async () => {
  console.error = consoleError
  await db.close()
})

/** A body that sends `chunks` pieces of a rows array and then fails as a closed connection does. */
function cutBody(chunks: number): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(enc.encode('{"rows":['))
      if (sent < chunks) {
        const rows = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: sent * 1000 + i, s: 'x'.repeat(80) }))
        controller.enqueue(enc.encode(`${sent > 0 ? ',' : ''}${rows.join(',')}`))
        sent++
        return
      }
      controller.error(new DOMException('The connection was closed.', 'AbortError'))
    },
  })
}

const cases: [string, Record<string, string>][] = [
  ['of unknown length (collected by the body limit)', {}],
  ['streamed in slices (content-length over the small-body size)', { 'content-length': String(64 * 1024 * 1024) }],
  ['read whole (small content-length)', { 'content-length': '1000' }],
]

for (const [name, headers] of cases) {
  test(`an insert whose body is cut off by the client, ${name}: 400, nothing written, no internal error logged`, async () => {
    logged.length = 0
    const req = new Request('http://localhost/api/v1/tables/t/-/rows', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: cutBody(headers['content-length'] === '1000' ? 0 : 3),
      duplex: 'half',
    } as RequestInit)
    const r = await app.fetch(req)
    const body = (await r.json()) as { error: { code: string; message: string } }
    expect({ status: r.status, code: body.error.code }).toEqual({ status: 400, code: 'INVALID_ARGUMENT' })
    expect(body.error.message).toContain('cut off')
    expect(logged.filter((args) => String(args[0]).includes('internal error'))).toEqual([])
    expect(await t.count()).toBe(0)
  })
}

test('a query whose body is cut off: 400 as well', async () => {
  logged.length = 0
  const r = await app.fetch(new Request('http://localhost/api/v1/query', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: cutBody(1), duplex: 'half',
  } as RequestInit))
  expect(r.status).toBe(400)
  expect(logged.filter((args) => String(args[0]).includes('internal error'))).toEqual([])
})
