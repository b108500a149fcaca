import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { applySetup, defineSetup, loadRoutes } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/index.ts'
import { memoryDb } from '../support/db.ts'

// Declared routes kept a cap of their own (10,000 rows) and nothing else: an insert route took more rows than the
// server's --max-insert-rows allows on POST …/-/rows, and a query route's answer was cut to 10,000 rows (or its own
// limit, whichever was smaller) without a word, past --max-answer-rows, so a caller could not tell a truncated answer
// from a whole one. Both are now held to the server's limits, and a query that would answer more is a 413.

let db: Tessera
let app: ReturnType<typeof createApp>

const setup = defineSetup(async (s) => {
  const { v } = s
  const t = await s.createTable('lim', { id: 'int' }, { primaryKey: 'id' })
  s.route.insert('/add', t)
  s.route.query('/all', v.object({}), async (_p, ctx) => (await ctx.table('lim')).select('id').orderBy((await ctx.table('lim')).c.id))
  s.route.query('/first', v.object({ n: v.number() }), async ({ n }, ctx) => (await ctx.table('lim')).select('id').orderBy((await ctx.table('lim')).c.id).limit(n))
})

beforeAll(async () => {
  db = await memoryDb()
  await applySetup(setup, db as unknown as SetupTarget)
  const { routes } = await loadRoutes(setup, db as unknown as SetupTarget)
  app = createApp(db, { routes, limits: { maxInsertRows: 3, maxAnswerRows: 5 } })
}, 120_000)
afterAll(async () => { await db?.close() })

const post = async (path: string, body: unknown) => {
  const r = await app.request(`/api/v1/app${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  return { status: r.status, body: await r.json() as { rows?: { id: number }[]; error?: { code: string; message: string } } }
}
const rows = (from: number, n: number) => ({ rows: Array.from({ length: n }, (_, i) => ({ id: from + i })) })

test("an insert route takes at most the server's --max-insert-rows rows in one request", async () => {
  const over = await post('/add', rows(0, 4))
  expect([over.status, over.body.error?.code]).toEqual([413, 'TOO_LARGE'])
  expect(over.body.error?.message).toContain('route /add: 4 rows in one request, more than 3 (limit)')
  expect(await (await db.getTable('lim')).count()).toBe(0)
  expect((await post('/add', rows(0, 3))).status).toBe(200)
  expect((await post('/add', rows(3, 3))).status).toBe(200)
})

test("a query route answering more than the server's --max-answer-rows rows is a 413, not a cut answer", async () => {
  expect(await (await db.getTable('lim')).count()).toBe(6)
  const all = await post('/all', {})
  expect([all.status, all.body.error?.code]).toEqual([413, 'TOO_LARGE'])
  expect(all.body.error?.message).toContain('route /all: its query answers more than 5 rows')
  const tooMany = await post('/first', { n: 6 })
  expect([tooMany.status, tooMany.body.error?.code]).toEqual([413, 'TOO_LARGE'])
  // Within the cap (a limit above it, but fewer rows; or a limit within it), the whole answer.
  const five = await post('/first', { n: 5 })
  expect([five.status, five.body.rows?.map((r) => r.id)]).toEqual([200, [0, 1, 2, 3, 4]])
  await (await db.getTable('lim')).delete({ where: (await db.getTable('lim')).c.id.ge(4) })
  const whole = await post('/first', { n: 100 })
  expect([whole.status, whole.body.rows?.map((r) => r.id)]).toEqual([200, [0, 1, 2, 3]])
})
