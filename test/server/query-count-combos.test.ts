import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// POST /query with "count": true answers {"count": n}. Sent with "head"/"tail" it answered the rows and dropped the
// count without a word (a client reading .count got undefined), and with Accept: application/x-ndjson it streamed
// every row of the table instead. Both are a 400 naming count now, as keyset with count is.

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  const t = await db.createTable('cc', { id: 'int' })
  await t.insert([{ id: 1 }, { id: 2 }, { id: 3 }])
})
afterAll(async () => { await db.close() })

const query = async (body: unknown, accept?: string) => {
  const res = await app.request('/api/v1/query', { method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) }, body: JSON.stringify(body) })
  return { status: res.status, body: JSON.parse((await res.text()).split('\n')[0]!) as { count?: number; error?: { code: string; message: string; details?: { path?: string } } } }
}

test('count with head, tail or an NDJSON stream is a 400 naming count', async () => {
  for (const [extra, accept, other] of [[{ head: 2 }, undefined, 'head'], [{ tail: 2 }, undefined, 'tail'], [{}, 'application/x-ndjson', 'an NDJSON stream']] as const) {
    const r = await query({ table: 'cc', count: true, ...extra }, accept)
    expect([other, r.status, r.body.error?.code, r.body.error?.details?.path]).toEqual([other, 400, 'INVALID_ARGUMENT', 'count'])
    expect(r.body.error?.message).toContain(`cannot be combined with ${other}`)
  }
  expect(await query({ table: 'cc', count: true })).toEqual({ status: 200, body: { count: 3 } })
  expect((await query({ table: 'cc', count: false, head: 2 })).status).toBe(200)
})
