import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { image, Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { defineSetup, loadRoutes } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/index.ts'
import { tempDir } from '../support/db.ts'
import { PNG_1x1 } from '../ai/fake-llm.ts'

// Reads never write (README, "HTTP API"): an image a read-only query derives (image_resize in a select) goes to the
// bounded cache, not the media store. app.ts tells a read by its path (/query, /export, /-/search); the MCP endpoint
// and declared routes are one path each for reads and writes, so their queries wrote derived images into the media
// store, under a read-only token too.

let db: Tessera
let home: string
let app: ReturnType<typeof createApp>
let reader: string

/** The files in the data dir's media store. */
function storeFiles(): number {
  let n = 0
  const walk = (dir: string) => {
    if (!existsSync(dir)) return
    for (const e of readdirSync(dir, { withFileTypes: true })) e.isDirectory() ? walk(join(dir, e.name)) : n++
  }
  walk(join(home, 'media'))
  return n
}

const resize = (width: number) => ({ fn: 'image_resize', args: [{ col: 'img' }], opts: { width, height: 3 } })

async function mcp(name: string, args: unknown): Promise<{ isError?: boolean; content: { text: string }[] }> {
  const r = await app.request('/api/v1/mcp', {
    method: 'POST',
    headers: { authorization: `Bearer ${reader}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  })
  return ((await r.json()) as { result: { isError?: boolean; content: { text: string }[] } }).result
}

beforeAll(async () => {
  home = tempDir()
  db = await Tessera.open({ home })
  await db.createDir('user_1')
  const imgs = await db.createTable('user_1/imgs', { id: 'int', img: 'image' }, { primaryKey: 'id' })
  await imgs.insert([{ id: 1, img: PNG_1x1 }])
  const { routes } = await loadRoutes(defineSetup(async (s) => {
    s.route.query('/small', v.object({ width: v.number() }), async ({ width }, ctx) => {
      const t = await ctx.table('user_1/imgs')
      return t.select({ small: image.resize(t.c.img, { width, height: 3 }) })
    })
  }), db as unknown as SetupTarget)
  const tokens = new TokenStore(db.driver)
  reader = await tokens.create('reader', { scopes: [{ prefix: 'user_1', access: 'read' }] })
  app = createApp(db, { authenticate: tokens.authenticate, tokens, ...(routes ? { routes } : {}) })
}, 120_000)
afterAll(async () => {
  await db.close()
})

test('an MCP query that derives an image leaves the media store as it was, as POST /query does', async () => {
  const before = storeFiles()
  const viaHttp = await app.request('/api/v1/query', {
    method: 'POST', headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
    body: JSON.stringify({ table: 'user_1/imgs', select: [{ name: 'x', expr: resize(7) }] }),
  })
  expect(viaHttp.status).toBe(200)
  expect(storeFiles()).toBe(before)
  const viaMcp = await mcp('query', { query: { table: 'user_1/imgs', select: [{ name: 'x', expr: resize(9) }] } })
  expect(viaMcp.isError).toBeUndefined()
  const [row] = JSON.parse(viaMcp.content[0]!.text) as { x: string }[]
  expect(row!.x).toStartWith('media://')
  expect(storeFiles()).toBe(before)
})

test('a declared query route that derives an image leaves the media store as it was', async () => {
  const before = storeFiles()
  const r = await app.request('/api/v1/app/small', {
    method: 'POST', headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' }, body: JSON.stringify({ width: 11 }),
  })
  expect(r.status).toBe(200)
  const { rows } = (await r.json()) as { rows: { small: string }[] }
  expect(rows[0]!.small).toStartWith('media://')
  expect(storeFiles()).toBe(before)
})
