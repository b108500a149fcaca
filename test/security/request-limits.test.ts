import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { udf } from '../../src/index.ts'
import type { Tessera } from '../../src/index.ts'
import { runtime } from '../../src/runtime/index.ts'
import { createApp } from '../../src/server/app.ts'
import { EXPR_LIMITS } from '../../src/api/index.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// Regression tests for issue 17's findings 1, 6, 9 and 10, and the request limits (body size, rows per insert, rows
// per JSON answer), against a real server on 127.0.0.1 so a hang or a connection reset shows as what it is.

let db: Tessera
let server: { port: number; stop(): Promise<void> }
let base: string
beforeAll(async () => {
  db = await memoryDb()
  const app = createApp(db, { limits: { maxBodyBytes: 256 * 1024, maxInsertRows: 50, maxAnswerRows: 40 } })
  server = await (await runtime()).serve(app.fetch, { port: 0, hostname: '127.0.0.1' })
  base = `http://127.0.0.1:${server.port}`
  const t = await db.createTable('t', { id: 'int', x: 'int', name: 'string' })
  await t.insert(Array.from({ length: 60 }, (_, i) => ({ id: i, x: i === 30 ? 0 : 1, name: `n${i}` })))
})
afterAll(async () => {
  await server.stop()
  await db.close()
})

const JSON_HEADERS = { 'content-type': 'application/json' }
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(20_000) })
const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string } }).error
const healthy = async () => expect((await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200)

describe('finding 1: a page size that never advances', () => {
  for (const batchSize of ['0', '-1', '1.5', 'NaN', 'Infinity', '1e400', 'abc', '']) {
    test(`batchSize=${batchSize} is a 400 naming the parameter, and the server keeps answering`, async () => {
      const r = await post(`/api/v1/query?batchSize=${encodeURIComponent(batchSize)}`, { table: 't' }, { accept: 'application/x-ndjson' })
      expect(r.status).toBe(400)
      expect((await errorOf(r)).message).toContain("'batchSize'")
      await healthy()
    })
  }

  test('Query.stream itself refuses a page size below 1', async () => {
    const t = await db.getTable('t')
    expect(await throwing(t.query().stream({ batchSize: 0 }).next())).toThrow(/batchSize/)
  })
})

describe('finding 9: malformed input is a 4xx, never a 500 or a reset', () => {
  test('job ids that are not ids', async () => {
    for (const id of ['abc', '1.5', '1e400', '%00', '-1', '0', '99999999999999999999']) {
      const r = await fetch(`${base}/api/v1/jobs/${id}`)
      expect(r.status).toBe(404)
      expect((await errorOf(r)).code).toBe('JOB_NOT_FOUND')
    }
  })

  test('an export body of null, an array, a number', async () => {
    for (const body of ['null', '[]', '5', '"x"']) {
      const r = await post('/api/v1/export', body)
      expect(r.status).toBe(400)
    }
  })

  test('prototype keys are not enum values', async () => {
    for (const bad of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const r = await post('/api/v1/tables/t/-/indexes', { column: 'name', embed: { fn: 'lexical_embed', modality: 'text' }, metric: bad })
      expect(r.status).toBe(400)
      const q = await fetch(`${base}/api/v1/export?format=${bad}`, { method: 'POST', headers: JSON_HEADERS, body: '{"table":"t"}' })
      expect(q.status).toBe(400)
      const d = await fetch(`${base}/api/v1/tables/t?ifNotExists=${bad}`, { method: 'DELETE' })
      expect(d.status).toBe(400)
    }
  })

  test('an unknown full-text language is a 400 listing the known ones', async () => {
    const r = await post('/api/v1/tables/t/-/search', { column: 'name', text: 'x', hybrid: true, language: 'klingon' })
    expect(r.status).toBe(400)
    expect((await errorOf(r)).message).toContain('english')
  })

  test(`expressions nested deeper than ${EXPR_LIMITS.depth}, wider than ${EXPR_LIMITS.args}, or more than ${EXPR_LIMITS.selectItems} select items: a 400 naming the limit`, async () => {
    let deep: unknown = { col: 'id' }
    for (let i = 0; i < 5000; i++) deep = { fn: 'not', args: [deep] }
    let r = await post('/api/v1/query', { table: 't', where: deep })
    expect(r.status).toBe(400)
    expect((await errorOf(r)).message).toContain('limit')
    let medium: unknown = { fn: 'gt', args: [{ col: 'id' }, { lit: 0 }] }
    for (let i = 0; i < EXPR_LIMITS.depth + 1; i++) medium = { fn: 'not', args: [medium] }
    r = await post('/api/v1/query', { table: 't', where: medium })
    expect(r.status).toBe(400)
    expect((await errorOf(r)).message).toContain(`deeper than ${EXPR_LIMITS.depth}`)
    r = await post('/api/v1/query', { table: 't', where: { fn: 'isin', args: Array.from({ length: EXPR_LIMITS.args + 1 }, (_, i) => ({ lit: i })) } })
    expect(r.status).toBe(400)
    expect((await errorOf(r)).message).toContain(`more than ${EXPR_LIMITS.args}`)
    r = await post('/api/v1/query', { table: 't', select: Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, expr: { col: 'id' } })) })
    expect(r.status).toBe(400)
    expect((await errorOf(r)).message).toContain(`more than ${EXPR_LIMITS.selectItems}`)
    // The same limit guards expressions everywhere else (a computed column, an update's where).
    r = await post('/api/v1/tables/t/-/columns', { name: 'deep', expr: deep })
    expect(r.status).toBe(400)
    await healthy()
  })

  test('an export that fails after its first rows ends with an error record; the connection is not reset', async () => {
    // A function (registered in this process, the server's) failing on row 30: long after the first bytes went out.
    udf({ name: 'sec_fails_on_30', returns: 'int', fn: (x: number) => { if (x === 30) throw new Error('thirty is right out'); return x } })
    const body = { table: 't', orderBy: [{ expr: { col: 'id' } }], select: [{ name: 'id', expr: { col: 'id' } }, { name: 'q', expr: { fn: 'sec_fails_on_30', args: [{ col: 'id' }] } }] }
    for (const format of ['jsonl', 'csv']) {
      const r = await post(`/api/v1/export?format=${format}&batchSize=5`, body)
      expect(r.status).toBe(200)
      const text = await r.text() // a reset connection would throw here
      expect(text).toContain('$error')
      expect(text.length).toBeGreaterThan(20)
    }
    const r = await post('/api/v1/export?format=parquet&batchSize=5', body)
    expect(r.status).toBe(200)
    const bytes = new Uint8Array(await r.arrayBuffer())
    // Parquet cannot carry an error record: the file ends without its footer magic, so no reader takes it as complete.
    expect(new TextDecoder().decode(bytes.subarray(-4))).not.toBe('PAR1')
    // Failing before the first byte: an ordinary error answer with its status.
    const early = await post('/api/v1/export', { table: 't', where: { fn: 'gt', args: [{ col: 'nope' }, { lit: 1 }] } })
    expect(early.status).toBe(404)
    await healthy()
  })
})

describe('finding 10: deleting every row is explicit', () => {
  test('an empty delete body is a 400 that says how to delete all; {"all": true} deletes all', async () => {
    const t = await db.createTable('del', { id: 'int' })
    await t.insert([{ id: 1 }, { id: 2 }])
    for (const body of ['', '{}', 'null']) {
      const r = await post('/api/v1/tables/del/-/delete', body)
      expect(r.status).toBe(400)
      if (body === '{}') expect((await errorOf(r)).message).toContain('"all": true')
    }
    expect(await t.count()).toBe(2)
    expect((await post('/api/v1/tables/del/-/delete', { all: true, where: { lit: true } })).status).toBe(400)
    const r = await post('/api/v1/tables/del/-/delete', { all: true })
    expect(r.status).toBe(200)
    expect(await t.count()).toBe(0)
  })
})

describe('finding 6: job column names go through the name check', () => {
  test("'', a 1 MiB name and SQL are refused with INVALID_NAME; nothing is created", async () => {
    for (const column of ['', 'x'.repeat(1 << 20), "x'); drop table tessera.tables; --"]) {
      const r = await post('/api/v1/jobs', { table: 't', column, expr: { fn: 'upper', args: [{ col: 'name' }] } })
      expect([400, 413]).toContain(r.status)
    }
    const r = await post('/api/v1/jobs', { table: 't', column: 'bad name', expr: { fn: 'upper', args: [{ col: 'name' }] } })
    expect((await errorOf(r)).code).toBe('INVALID_NAME')
    expect((await db.getTable('t')).columns().map((c) => c.name)).toEqual(['id', 'x', 'name'])
  })
})

describe('request limits', () => {
  test('a body over the limit is a 413 naming the limit and the streamed import', async () => {
    const r = await post('/api/v1/tables/t/-/rows', { rows: [{ id: 1, name: 'x'.repeat(300 * 1024) }] })
    expect(r.status).toBe(413)
    const e = await errorOf(r)
    expect(e.code).toBe('TOO_LARGE')
    expect(e.message).toContain('import')
    await healthy()
  })

  test('the streamed import is not held to the body limit', async () => {
    const csv = `id,name\n${Array.from({ length: 20_000 }, (_, i) => `${i},name number ${i}`).join('\n')}\n`
    expect(csv.length).toBeGreaterThan(256 * 1024)
    const r = await fetch(`${base}/api/v1/tables/big/-/import?format=csv`, { method: 'POST', body: csv })
    expect(r.status).toBe(201)
    expect(await (await db.getTable('big')).count()).toBe(20_000)
  })

  test('more rows per insert than allowed is a 413 pointing at the import route', async () => {
    const r = await post('/api/v1/tables/t/-/rows', { rows: Array.from({ length: 51 }, (_, i) => ({ id: 1000 + i, x: 1, name: 'n' })) })
    expect(r.status).toBe(413)
    expect((await errorOf(r)).message).toContain('/-/import')
    expect((await post('/api/v1/tables/t/-/rows', { rows: [{ id: 1000, x: 1, name: 'n' }] })).status).toBe(201)
  })

  test('a JSON answer beyond the row cap is refused with advice; streaming and paging work', async () => {
    let r = await post('/api/v1/query', { table: 't' })
    expect(r.status).toBe(413)
    expect((await errorOf(r)).message).toContain('application/x-ndjson')
    r = await post('/api/v1/query', { table: 't', limit: 1000 })
    expect(r.status).toBe(413)
    r = await post('/api/v1/query', { table: 't', limit: 40 })
    expect(r.status).toBe(200)
    r = await post('/api/v1/query', { table: 't', count: true })
    expect(((await r.json()) as { count: number }).count).toBeGreaterThan(40)
    r = await post('/api/v1/query?batchSize=7', { table: 't' }, { accept: 'application/x-ndjson' })
    expect((await r.text()).trim().split('\n').length).toBeGreaterThan(40)
  })
})
