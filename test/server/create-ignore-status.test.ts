import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A create with ifExists 'ignore' answers 201 when the request made the object and 200 when it was there already (as
// POST /dirs does). POST /tables decided by listing the dir before creating, so requests racing to create one table
// were all told 201 (created), and POST /views, /snapshots and …/-/columns answered 201 for an object that had long
// existed.

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  await db.createTable('base', { id: 'int' })
})
afterAll(async () => { await db.close() })

const post = async (path: string, body: unknown) => {
  const res = await app.request(`/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as { path?: string } }
}

test('requests racing to create one table with ignore: one is told 201, the others 200', async () => {
  const answers = await Promise.all([1, 2, 3].map(() => post('/tables', { path: 'raced', schema: { id: 'int' }, ifExists: 'ignore' })))
  expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201])
  expect(answers.every((a) => a.body.path === 'raced')).toBe(true)
  expect(await db.listTables('')).toEqual(['base', 'raced'])
})

test('a view or snapshot that exists already is a 200 with ignore; a new one a 201', async () => {
  for (const [route, body] of [['/views', { path: 'v', base: 'base' }], ['/snapshots', { path: 's', base: 'base' }]] as const) {
    expect([route, (await post(route, { ...body, ifExists: 'ignore' })).status]).toEqual([route, 201])
    const again = await post(route, { ...body, ifExists: 'ignore' })
    expect([route, again.status, again.body.path]).toEqual([route, 200, body.path])
    expect([route, (await post(route, body)).status]).toEqual([route, 409])
  }
  expect((await post('/tables', { path: 'base', schema: { id: 'int' }, ifExists: 'ignore' })).status).toBe(200)
})

test('a column that exists already is a 200 with ignore; a new one a 201', async () => {
  for (const body of [{ name: 'n', type: 'int?' }, { name: 'twice', expr: { fn: 'mul', args: [{ col: 'id' }, { lit: 2 }] } }]) {
    expect([body.name, (await post('/tables/base/-/columns', { ...body, ifExists: 'ignore' })).status]).toEqual([body.name, 201])
    expect([body.name, (await post('/tables/base/-/columns', { ...body, ifExists: 'ignore' })).status]).toEqual([body.name, 200])
    expect([body.name, (await post('/tables/base/-/columns', body)).status]).toEqual([body.name, 409])
  }
  expect(Object.keys((await db.getTable('base')).schema())).toEqual(['id', 'n', 'twice'])
})
