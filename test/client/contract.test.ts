import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import type { TableApi, TesseraApi } from '../../src/api/index.ts'
import { CountAnswerSchema, ErrorAnswerSchema, HistoryAnswerSchema, QueryAnswerSchema, SchemaChangeAnswerSchema, TableInfoSchema, UpdateStatusSchema } from '../../src/api/index.ts'
import type { RemoteTable, RemoteTessera } from '../../src/client/index.ts'
import { connect } from '../../src/client/index.ts'
import type { Table, Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// One contract (src/api): the library and the HTTP client both implement TesseraApi/TableApi (checked by the
// compiler through these assignments), and the server's answers have the shapes the contract's schemas describe.

// Compile-time: each side is assignable to the contract. A method that drifts on one side breaks `tsc`.
export const libraryFits = (db: Tessera): TesseraApi<Table> => db
export const clientFits = (db: RemoteTessera): TesseraApi<RemoteTable> => db
export const tablesFit = (a: Table, b: RemoteTable): TableApi[] => [a, b]

let db: Tessera
let app: ReturnType<typeof createApp>
const call = async (method: string, path: string, body?: unknown) => {
  const res = await app.fetch(new Request(`http://127.0.0.1/api/v1${path}`, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) }))
  return { status: res.status, body: await res.json() }
}

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
})
afterAll(async () => { await db.close() })

describe('the server answers in the contract\'s shapes', () => {
  test('tables, writes, schema changes, queries, history and errors', async () => {
    const created = await call('POST', '/tables', { path: 'c1', schema: { id: 'int', s: 'string?' }, primaryKey: 'id' })
    expect(created.status).toBe(201)
    v.parse(TableInfoSchema, created.body)
    v.parse(TableInfoSchema, (await call('GET', '/tables/c1')).body)
    v.parse(UpdateStatusSchema, (await call('POST', '/tables/c1/-/rows', { rows: [{ id: 1, s: 'a' }, { id: 2, s: null }] })).body)
    v.parse(UpdateStatusSchema, (await call('PATCH', '/tables/c1/-/rows', { values: { s: 'b' }, where: { fn: 'eq', args: [{ col: 'id' }, { lit: 2 }] } })).body)
    v.parse(SchemaChangeAnswerSchema, (await call('POST', '/tables/c1/-/columns', { name: 'up', expr: { fn: 'upper', args: [{ col: 's' }] } })).body)
    const q = v.parse(QueryAnswerSchema, (await call('POST', '/query', { table: 'c1', orderBy: [{ expr: { col: 'id' } }] })).body)
    expect(q.rows).toEqual([{ id: 1, s: 'a', up: 'A' }, { id: 2, s: 'b', up: 'B' }])
    v.parse(CountAnswerSchema, (await call('POST', '/query', { table: 'c1', count: true })).body)
    v.parse(HistoryAnswerSchema, (await call('GET', '/tables/c1/-/history')).body)
    const missing = await call('GET', '/tables/nope')
    expect(missing.status).toBe(404)
    expect(v.parse(ErrorAnswerSchema, missing.body).error.code).toBe('TABLE_NOT_FOUND')
  })

  test('the client and the library give the same table info for the same table', async () => {
    const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
    const remote = await client.getTable('c1')
    const local = await db.getTable('c1')
    expect(remote.columns()).toEqual(JSON.parse(JSON.stringify(local.columns())))
    expect(remote.primaryKey).toEqual(local.primaryKey)
    expect(remote.version).toBe(local.version)
  })
})
