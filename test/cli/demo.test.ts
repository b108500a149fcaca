import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createDemo } from '../../src/cli/demo-data.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// `tessera demo`'s data: generated images with computed columns, texts with an index, searchable over the API.

setDefaultTimeout(120_000)
let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(async () => db.close())

test('creates the demo once; images, computed columns and indexes work through the API', async () => {
  expect(await createDemo(db)).toEqual({ created: true, tables: ['demo/shapes', 'demo/articles'] })
  expect((await createDemo(db)).created).toBe(false)
  const shapes = await db.getTable('demo/shapes')
  expect(await shapes.count()).toBe(24)
  const row = (await shapes.where(shapes.c.name.eq('red star')).select('width', 'gray', 'shout').collect()).rows[0]!
  expect(row).toEqual({ width: 128, gray: expect.stringMatching(/^media:\/\//), shout: 'RED STAR' })
  const app = createApp(db)
  const thumb = await app.request(`/api/v1/tables/demo/shapes/-/media?${new URLSearchParams({ column: 'gray', ref: String(row.gray), w: '64' })}`)
  expect(thumb.status).toBe(200)
  const search = async (table: string, body: unknown) => (await (await app.request(`/api/v1/tables/${table}/-/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { rows: Record<string, unknown>[] }
  expect((await search('demo/shapes', { column: 'caption', text: 'green triangle', k: 1 })).rows[0]!.name).toBe('green triangle')
  expect((await search('demo/articles', { column: 'body', text: 'revert a version', hybrid: true, k: 1 })).rows[0]!.title).toBe('Versions')
  expect((await createDemo(db, { reset: true })).created).toBe(true)
  expect(await (await db.getTable('demo/shapes')).count()).toBe(24)
})
