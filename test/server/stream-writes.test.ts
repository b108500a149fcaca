import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import type { Driver } from '../../src/store/index.ts'
import { memoryDb } from '../support/db.ts'

// A streamed query (POST /api/v1/query, Accept: application/x-ndjson) reads its pages one statement each, pinned at
// the version current when it started; a page over a big table can cost as much as reading the whole table. An
// update of that table reads the rows it changes in short block-range statements, sized from the time they take:
// with the stream's pages as ordinary reads, each of its statements waited for a whole page, so the update finished
// only with the stream (a 10-row update: ~20 ms alone, 5-20 s during a 100,000-row stream). The pages are bulk reads
// now (src/store/scheduler.ts): reads, writes and jobs go first. Counted in pages, no timings.

const ROWS = 40_000
const BATCH = 500

let db: Tessera
let app: ReturnType<typeof createApp>
/** Stream pages (statements returning each row's _rowid for the next page) answered so far. */
let pages = 0

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  const t = await db.createTable('streamed', { id: 'int', v: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: ROWS }, (_, i) => ({ id: i, v: 'x'.repeat(50) })))
  const driver = db.driver as Driver
  const query = driver.query.bind(driver)
  driver.query = (async (sql: string, params?: readonly unknown[], options?: object) => {
    const r = await query(sql, params, options)
    if (/ as "_rowid"/.test(sql)) pages++
    return r
  }) as Driver['query']
})
afterAll(async () => {
  await db.close()
})

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' }, body: JSON.stringify(body) })

test('an update of a table being streamed commits between pages; the stream still returns the version it started at', async () => {
  const r = await app.request(`/api/v1/query?batchSize=${BATCH}`, json({ table: 'streamed' }))
  expect(r.status).toBe(200)
  const reader = r.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const first = await reader.read()
  text += decoder.decode(first.value, { stream: true })
  // the client keeps reading while the update runs
  const rest = (async () => {
    for (let c = await reader.read(); !c.done; c = await reader.read()) text += decoder.decode(c.value, { stream: true })
  })()

  const pagesBefore = pages
  const u = await app.request('/api/v1/tables/streamed/-/rows', {
    method: 'PATCH', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ values: { v: { lit: 'updated' } }, where: { fn: 'lt', args: [{ col: 'id' }, { lit: 10 }] } }),
  })
  const pagesDuring = pages - pagesBefore
  expect(u.status).toBe(200)
  expect(((await u.json()) as { numUpdated: number }).numUpdated).toBe(10)
  await rest

  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { id: number; v: string; $error?: unknown })
  expect(lines.filter((l) => l.$error)).toEqual([])
  expect(lines).toHaveLength(ROWS)
  expect(new Set(lines.map((l) => l.id)).size).toBe(ROWS)
  // the version the stream started at: the update, committed meanwhile, is not in it
  expect(lines.filter((l) => l.v !== 'x'.repeat(50))).toEqual([])
  // the update went between pages: at most a few of them (a waiting page goes once it has waited 100 ms), not a page
  // per statement of the update (before: 26-30 of the stream's 80 pages; none now)
  expect(pagesDuring).toBeLessThan(8)
  expect(pages - pagesBefore).toBeGreaterThan(pagesDuring)
  const t = await db.getTable('streamed')
  expect(await t.where(t.c.v.eq('updated')).count()).toBe(10)
})
