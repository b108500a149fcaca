import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import type { TableApi, TesseraApi } from '../../src/api/index.ts'
import {
  CheckAnswerSchema, CompactReportSchema, CountAnswerSchema, ErrorAnswerSchema, GcReportSchema, HistoryAnswerSchema, IndexListAnswerSchema, JobInfoSchema,
  JobListAnswerSchema, QueryAnswerSchema, RetentionAnswerSchema, SchemaChangeAnswerSchema, TableInfoSchema, UpdateStatusSchema,
} from '../../src/api/index.ts'
import * as requests from '../../src/api/requests.ts'
import type { RemoteTable, RemoteTessera } from '../../src/client/index.ts'
import { connect, NotFoundError, RequestError } from '../../src/client/index.ts'
import type { Table, Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { applySetup } from '../../src/setup/index.ts'
import { rejection } from '../support/settle.ts'
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

describe('one contract for requests: the routes validate with src/api/requests.ts, the client builds its bodies to it', () => {
  test('/openapi.json documents each body route with the contract\'s request schema', async () => {
    const doc = (await (await app.fetch(new Request('http://127.0.0.1/openapi.json'))).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>> }
    const bodyOf = (path: string, method: string) => doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema
    // The bounds come from the contract's schemas (requests.ts): a createTable body caps its comment, a job its batch.
    expect(JSON.stringify(bodyOf('/api/v1/tables', 'post'))).toContain('"maxLength":10000')
    expect(JSON.stringify(bodyOf('/api/v1/jobs', 'post'))).toContain('"maximum":100000')
    expect(Object.keys((bodyOf('/api/v1/tables/{path}/-/search', 'post') as { properties: object }).properties).sort()).toEqual(Object.keys(requests.SearchRequestSchema.entries).sort())
    for (const [path, method] of [['/api/v1/dirs', 'post'], ['/api/v1/move', 'post'], ['/api/v1/views', 'post'], ['/api/v1/snapshots', 'post'], ['/api/v1/tables/{path}/-/rows', 'post'], ['/api/v1/tables/{path}/-/rows', 'patch'], ['/api/v1/tables/{path}/-/delete', 'post'], ['/api/v1/tables/{path}/-/batch-update', 'post'], ['/api/v1/tables/{path}/-/columns', 'post'], ['/api/v1/tables/{path}/-/recompute', 'post'], ['/api/v1/tables/{path}/-/indexes', 'post'], ['/api/v1/query', 'post'], ['/api/v1/tokens', 'post'], ['/api/v1/admin/compact', 'post'], ['/api/v1/admin/gc', 'post'], ['/api/v1/admin/retention', 'post']] as const) {
      expect([path, method, typeof bodyOf(path, method)]).toEqual([path, method, 'object'])
    }
  })

  test('/openapi.json gives each query-string parameter the bounds the server checks (src/api/params.ts)', async () => {
    type Param = { name: string; required: boolean; schema: Record<string, unknown> }
    const doc = (await (await app.fetch(new Request('http://127.0.0.1/openapi.json'))).json()) as { paths: Record<string, Record<string, { parameters?: Param[] }>> }
    const param = (path: string, method: string, name: string) => doc.paths[path]?.[method]?.parameters?.find((p) => p.name === name)
    expect(param('/api/v1/tables/{path}/-/rows', 'get', 'limit')).toEqual({ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 } } as Param)
    expect(param('/api/v1/tables/{path}/-/import', 'post', 'format')).toMatchObject({ required: true, schema: { type: 'string', enum: ['csv', 'tsv', 'json', 'jsonl', 'parquet'] } })
    expect(param('/api/v1/tables/{path}', 'delete', 'force')?.schema).toEqual({ type: 'boolean' })
    expect(param('/api/v1/jobs/{id}/events', 'get', 'intervalMs')?.schema).toMatchObject({ minimum: 100, maximum: 60_000 })
    // and the server refuses what the document excludes, naming the parameter and the range
    const r = await call('GET', '/tables/c1/-/rows?limit=10001')
    expect([r.status, r.body.error.message]).toEqual([400, "query parameter 'limit' must be an integer from 1 to 10000, got \"10001\""])
    const missing = await app.fetch(new Request('http://127.0.0.1/api/v1/tables/c1/-/import', { method: 'POST', body: 'id\n1\n' }))
    expect((await missing.json()).error.message).toBe("query parameter 'format' is required: one of csv, tsv, json, jsonl, parquet")
  })

  test('a refused body reads the same as the library\'s refusal (unknown options by name, bounds named)', async () => {
    const r = await call('POST', '/tables', { path: 'c2', schema: { id: 'int' }, primary_key: 'id' })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toContain("createTable: unknown option 'primary_key'")
    const parsed = v.safeParse(requests.CreateTableRequestSchema, { path: 'c2', schema: { id: 'int' }, primary_key: 'id' })
    expect(parsed.success).toBe(false)
  })

  test('hybridSearch with withErrors over HTTP (the body is the contract\'s SearchRequest: errors, not withErrors)', async () => {
    const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
    const t = await client.createTable('c_search', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, text: 'lava flows from the volcano' }, { id: 2, text: 'a quiet lake' }, { id: 3, text: '42' }])
    await t.addComputedColumn('num', t.c.text.astype('int'), { onError: 'ignore' })
    await t.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex' })
    v.parse(IndexListAnswerSchema, (await call('GET', '/tables/c_search/-/indexes')).body)
    const rs = await t.hybridSearch('lava volcano', { column: 'text', k: 3, withErrors: true })
    expect(rs.rows[0]).toMatchObject({ id: 1, 'num#errortype': expect.any(String) })
    v.parse(QueryAnswerSchema, (await call('POST', '/tables/c_search/-/search', { column: 'text', text: 'lava', k: 1 })).body)
  })

  test('a background index job over HTTP takes the HNSW knobs, as db.jobs.startIndex does; jobs answer in the contract\'s shapes', async () => {
    const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
    const t = await client.createTable('c_jobs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, text: 'alpha beta' }, { id: 2, text: 'gamma delta' }])
    const job = await client.jobs.startIndex({ table: t, column: 'text', embed: embedders.lexical({ dims: 16 }), name: 'small', m: 8, efConstruction: 32, fullText: false })
    v.parse(JobInfoSchema, (await call('GET', `/jobs/${job.id}`)).body)
    expect((await client.jobs.wait(job.id, { pollMs: 20 })).status).toBe('done')
    v.parse(JobListAnswerSchema, (await call('GET', '/jobs')).body)
    const index = (await db.getTable('c_jobs')).listIndexes().find((i) => i.name === 'small')!
    expect(index.ann).toMatchObject({ m: 8, efConstruction: 32 })
  })

  test('admin answers: check, gc, compact and retention in the contract\'s shapes, through the client too', async () => {
    v.parse(CheckAnswerSchema, (await call('GET', '/admin/check')).body)
    v.parse(GcReportSchema, (await call('POST', '/admin/gc', { dryRun: true })).body)
    v.parse(RetentionAnswerSchema, (await call('POST', '/admin/retention', { path: 'c1', policy: { keepVersions: 5 } })).body)
    v.parse(CompactReportSchema, (await call('POST', '/admin/compact', { dryRun: true })).body)
    const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
    expect((await client.setRetention(null, 'c1')).source).not.toBe('table')
    expect((await client.gc({ dryRun: true })).dryRun).toBe(true)
  })

  test('client errors are the classes their codes name, and the token may be read at each request', async () => {
    let token = ''
    const seen: string[] = []
    const client = connect('http://127.0.0.1', { token: () => token, fetch: async (req) => { seen.push(req.headers.get('authorization') ?? ''); return app.fetch(req) } })
    expect(await rejection(client.getTable('nope'))).toBeInstanceOf(NotFoundError)
    token = 'tsr_later'
    expect(await rejection(client.createTable('c3', { id: 'nonsense' }))).toBeInstanceOf(RequestError)
    expect(seen).toEqual(['', 'Bearer tsr_later'])
  })

  test('setup: a background rebuild without an embedder is refused by name (a job needs one), before any job starts', async () => {
    const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
    const t = await client.createTable('c_setup', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex' })
    const before = (await client.jobs.list()).length
    const e = await rejection(applySetup(async (db) => {
      const tt = await db.getTable('c_setup')
      await tt.addEmbeddingIndex('text', { name: 'lex', ifExists: 'replace', background: true })
    }, client))
    expect((e as Error).message).toContain("addEmbeddingIndex('text') needs embed")
    expect((await client.jobs.list()).length).toBe(before)
  })
})
