import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// The HTTP client joins as the library does: right, full and cross joins give the library's rows; a bad kind is the
// client's refusal in the library's words (before anything is sent). Also stored: false columns over HTTP.

let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(async () => { await db.close() })

test('right, full and cross joins over HTTP equal the library; stored: false columns too', async () => {
  const app = createApp(db)
  const client = connect('http://localhost', { fetch: async (req) => app.fetch(req) })
  const a = await db.createTable('ra', { id: 'int', x: 'string' })
  const b = await db.createTable('rb', { id: 'int', y: 'string' })
  await a.insert([{ id: 1, x: 'a1' }, { id: 2, x: 'a2' }])
  await b.insert([{ id: 2, y: 'b2' }, { id: 3, y: 'b3' }])
  const ra = await client.getTable('ra')
  const rb = await client.getTable('rb')
  const sort = (rows: readonly Record<string, unknown>[]) => [...rows].sort((p, q) => JSON.stringify(p).localeCompare(JSON.stringify(q)))
  for (const how of ['inner', 'left', 'right', 'full'] as const) {
    const lib = (await a.join(b, { on: a.c.id.eq(b.c.id), how }).select({ x: a.c.x, y: b.c.y }).collect()).rows
    const http = (await ra.join(rb, { on: ra.c.id.eq(rb.c.id), how }).select({ x: ra.c.x, y: rb.c.y }).collect()).rows
    expect(sort(http)).toEqual(sort(lib))
  }
  expect((await ra.join(rb, { how: 'cross' }).select({ x: ra.c.x, y: rb.c.y }).collect()).rows.length).toBe(4)
  // The client's builder refuses an unknown kind as the library's does, before anything is sent.
  expect(() => ra.join(rb, { on: ra.c.id.eq(rb.c.id), how: 'outer' as never })).toThrow("join how must be one of 'inner', 'left', 'right', 'full', 'cross'")
  await ra.addComputedColumn('up', ra.c.x.upper(), { stored: false })
  expect((await a.orderBy(a.c.id).select('up').collect()).rows).toEqual([{ up: 'A1' }, { up: 'A2' }])
})
