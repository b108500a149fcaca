import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Tessera } from '../../src/index.ts'
import { withWorkBound } from '../../src/query/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// The work bound of a request's query (src/query/work-bound.ts): PGlite cannot interrupt a running statement, so a
// query with joins is planned first (EXPLAIN) and refused when a join is estimated to produce more rows than the
// server's --max-join-rows. Three 2,000-row tables cross-joined (8e9 rows) held the store for every tenant until
// the process was killed; now it is a 413 before anything runs. Single-table queries pay no EXPLAIN.

type Answer = { rows?: Record<string, unknown>[]; count?: number; error?: { code: string; message: string; details?: Record<string, unknown> } }

let db: Tessera
let app: ReturnType<typeof createApp>
let alice: string
/** Every statement the store was sent, in order (the driver's query method, wrapped). */
const statements: string[] = []
const explains = () => statements.filter((s) => /^\s*explain\b/i.test(s)).length
const open: Client[] = []

beforeAll(async () => {
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  alice = await tokens.create('alice', { scopes: [{ prefix: 'user_alice', access: 'read' }] })
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
  await db.createDir('user_alice')
  const big = await db.createTable('user_alice/big', { id: 'int', grp: 'int', tag: 'string' })
  await big.insert(Array.from({ length: 2000 }, (_, i) => ({ id: i, grp: i % 2, tag: `t${i}` })))
  const a = await db.createTable('user_alice/a', { id: 'int', name: 'string' })
  await a.insert([{ id: 1, name: 'one' }, { id: 2, name: 'two' }, { id: 3, name: 'three' }])
  const b = await db.createTable('user_alice/b', { bid: 'int', a_id: 'int', note: 'string' })
  await b.insert([{ bid: 10, a_id: 1, note: 'x' }, { bid: 11, a_id: 1, note: 'y' }, { bid: 12, a_id: 3, note: 'z' }])
  for (const k of ['k1', 'k2']) {
    const g = await db.createTable(`user_alice/${k}`, { [k]: 'int' })
    await g.insert(Array.from({ length: 2000 }, (_, i) => ({ [k]: i % 2 })))
  }
  const driver = db.driver as unknown as { query: (sql: string, ...rest: unknown[]) => Promise<unknown> }
  const query = driver.query.bind(driver)
  driver.query = (sql: string, ...rest: unknown[]) => {
    statements.push(sql)
    return query(sql, ...rest)
  }
}, 120_000)
afterAll(async () => {
  for (const c of open) await c.close()
  await db.close()
})

async function post(body: unknown, options: { accept?: string; path?: string } = {}): Promise<{ status: number; body: Answer; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${alice}` }
  if (options.accept) headers.accept = options.accept
  const res = await app.request(options.path ?? '/api/v1/query', { method: 'POST', headers, body: JSON.stringify(body) })
  const text = await res.text()
  let parsed: Answer = {}
  try {
    parsed = JSON.parse(text) as Answer
  } catch {
    // NDJSON: read as text.
  }
  return { status: res.status, body: parsed, text }
}

const crossJoin = { table: 'user_alice/big', joins: [{ table: 'user_alice/big', how: 'cross' }, { table: 'user_alice/big', how: 'cross' }] }
/** The cross join's rows (a self-join's columns share names: one output that names none). */
const crossRows = { ...crossJoin, select: [{ name: 'n', expr: { lit: 1 } }] }

function expectRefused(r: { status: number; body: Answer }) {
  expect(r.status).toBe(413)
  expect(r.body.error?.code).toBe('TOO_LARGE')
  expect(r.body.error?.message).toContain('--max-join-rows')
  expect(r.body.error?.message).toContain('50,000,000')
  expect(r.body.error?.details?.limit).toBe(50_000_000)
  expect(r.body.error?.details?.estimatedRows as number).toBeGreaterThan(50_000_000)
}

describe('the work bound of a request query', () => {
  test('the 8e9-row cross-join count is refused before it runs, naming the estimate and the limit', async () => {
    const started = performance.now()
    const r = await post({ ...crossJoin, count: true })
    expect(performance.now() - started).toBeLessThan(1000)
    expectRefused(r)
    expect(r.body.error?.message).toMatch(/estimated to produce [\d,.e+]+ rows/)
    // Nothing but the plan ran: no count over the join.
    expect(statements.some((s) => /count\(\*\)/.test(s) && / cross join /i.test(s))).toBe(false)
  })

  test('refused as a JSON answer, an NDJSON stream, a head, a table route and an export', async () => {
    expectRefused(await post(crossRows))
    expectRefused(await post({ ...crossRows, limit: 10, distinct: true }))
    expectRefused(await post(crossRows, { accept: 'application/x-ndjson' }))
    expectRefused(await post({ ...crossRows, head: 5 }))
    expectRefused(await post({ ...crossRows, table: undefined }, { path: '/api/v1/tables/user_alice/big/-/query' }))
    expectRefused(await post(crossRows, { path: '/api/v1/export?format=jsonl' }))
  })

  // Joins on a column whose values repeat (estimated by the planner's column statistics, which PGlite's writes now
  // keep fresh and the bound brings up to date first): query-work-bound-statistics.test.ts.

  test('a normal join of two small tables still works', async () => {
    const before = explains()
    const r = await post({
      table: 'user_alice/a', joins: [{ table: 'user_alice/b', on: { fn: 'eq', args: [{ col: 'id' }, { col: 'a_id' }] } }],
      select: [{ name: 'name', expr: { col: 'name' } }, { name: 'note', expr: { col: 'note' } }],
      orderBy: [{ expr: { col: 'note' }, desc: false }],
    })
    expect(r.status).toBe(200)
    expect(r.body.rows).toEqual([{ name: 'one', note: 'x' }, { name: 'one', note: 'y' }, { name: 'three', note: 'z' }])
    expect(explains()).toBe(before + 2)
    const streamed = await post({ table: 'user_alice/a', joins: [{ table: 'user_alice/b', how: 'cross' }] }, { accept: 'application/x-ndjson' })
    expect(streamed.status).toBe(200)
    expect(streamed.text.trim().split('\n')).toHaveLength(9)
  })

  test('single-table queries run no EXPLAIN', async () => {
    const before = explains()
    const count = statements.length
    expect((await post({ table: 'user_alice/big', where: { fn: 'eq', args: [{ col: 'id' }, { lit: 7 }] } })).body.rows).toEqual([{ id: 7, grp: 1, tag: 't7' }])
    expect((await post({ table: 'user_alice/big', count: true })).body.count).toBe(2000)
    expect((await post({ table: 'user_alice/big', limit: 3 }, { accept: 'application/x-ndjson' })).text.trim().split('\n')).toHaveLength(3)
    expect((await post({ table: 'user_alice/big', limit: 3, keyset: {} })).body.rows).toHaveLength(3)
    expect(statements.length).toBeGreaterThan(count) // the wrapper sees the statements
    expect(explains()).toBe(before)
  })

  test('in-process library queries are not bounded unless they opt in', async () => {
    const big = await db.getTable('user_alice/big')
    const before = explains()
    expect(await big.join(big, { how: 'cross' }).limit(1).count()).toBe(1)
    expect(explains()).toBe(before)
    const e = await rejection(() => withWorkBound(big.join(big, { how: 'cross' }).join(big, { how: 'cross' }), { maxJoinRows: 1000 }).count())
    expect((e as { code?: string }).code).toBe('TOO_LARGE')
    expect((e as Error).message).toContain('1,000')
  })

  test('the bound is a server setting', async () => {
    const tokens = new TokenStore(db.driver)
    const token = await tokens.create('alice2', { scopes: [{ prefix: 'user_alice', access: 'read' }] })
    const tight = createApp(db, { authenticate: tokens.authenticate, tokens, limits: { maxJoinRows: 5 } })
    const res = await tight.request('/api/v1/query', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ table: 'user_alice/a', joins: [{ table: 'user_alice/b', how: 'cross' }] }),
    })
    const body = await res.json() as Answer
    expect(res.status).toBe(413)
    expect(body.error?.details?.limit).toBe(5)
    expect(body.error?.message).toContain('more than the 5 one request')
  })
})

describe('the MCP query tool', () => {
  test('refuses the cross join before it runs', async () => {
    const transport = new StreamableHTTPClientTransport(new URL('http://tessera.test/api/v1/mcp'), {
      fetch: async (url, init) => app.fetch(new Request(url, init)),
      requestInit: { headers: { authorization: `Bearer ${alice}` } },
    })
    const c = new Client({ name: 'test-agent', version: '1.0.0' })
    await c.connect(transport)
    open.push(c)
    const started = performance.now()
    const r = (await c.callTool({ name: 'query', arguments: { query: crossRows } })) as { isError?: boolean; content: { text: string }[] }
    expect(performance.now() - started).toBeLessThan(1000)
    expect(r.isError).toBe(true)
    expect(r.content[0]!.text).toMatch(/^TOO_LARGE: this query's joins are estimated to produce [\d,.e+]+ rows, more than the 50,000,000/)
    const ok = (await c.callTool({ name: 'query', arguments: { query: { table: 'user_alice/a', joins: [{ table: 'user_alice/b', on: { fn: 'eq', args: [{ col: 'id' }, { col: 'a_id' }] } }] } } })) as { isError?: boolean; content: { text: string }[] }
    expect(ok.isError).toBeFalsy()
    expect(JSON.parse(ok.content[0]!.text)).toHaveLength(3)
  })
})
