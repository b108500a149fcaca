import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// POST /api/v1/query with `keyset`: a page of a query over one table in insertion order after a row position, and
// the position the next page starts after (what the HTTP client's stream() sends: test/client/stream-keyset.test.ts).
// The position is client input: bad ones are a 400 naming the field, never a 5xx, and a position only moves where a
// page starts within the rows of the query sent with it (the token's read access is checked as without it).

type Answer = { columns?: unknown[]; rows?: Record<string, unknown>[]; keyset?: { after: string }; error?: { code: string; message: string; details?: Record<string, unknown> } }

let db: Tessera
let app: ReturnType<typeof createApp>
let small: ReturnType<typeof createApp>
let tokens: TokenStore
let admin: string

beforeAll(async () => {
  db = await memoryDb()
  tokens = new TokenStore(db.driver)
  admin = await tokens.create('root', { admin: true })
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
  small = createApp(db, { authenticate: tokens.authenticate, tokens, limits: { maxAnswerRows: 100 } })
  const t = await db.createTable('qk_t', { id: 'int', tag: 'string' })
  await t.insert(Array.from({ length: 350 }, (_, i) => ({ id: i, tag: i % 2 ? 'odd' : 'even' })))
  await t.where(t.c.id.ge(100).and(t.c.id.lt(150))).delete()
  await db.createDir('qk_secret')
  await db.createDir('qk_mine')
  const secret = await db.createTable('qk_secret/rows', { id: 'int', tag: 'string' })
  await secret.insert(Array.from({ length: 20 }, (_, i) => ({ id: 1000 + i, tag: 'secret' })))
})
afterAll(async () => {
  await db.close()
})

async function post(body: unknown, options: { token?: string; accept?: string; on?: typeof app } = {}): Promise<{ status: number; body: Answer }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${options.token ?? admin}` }
  if (options.accept) headers.accept = options.accept
  const res = await (options.on ?? app).fetch(new Request('http://127.0.0.1/api/v1/query', { method: 'POST', headers, body: JSON.stringify(body) }))
  const text = await res.text()
  return { status: res.status, body: (options.accept ? {} : JSON.parse(text)) as Answer }
}

/** Every page of `body` by keyset, following each answer's keyset until an answer has none. */
async function pages(body: Record<string, unknown>, on = app) {
  const out: Answer[] = []
  for (let keyset: Record<string, unknown> | undefined = {}; keyset;) {
    const r = await post({ ...body, keyset }, { on })
    expect(r.status).toBe(200)
    out.push(r.body)
    keyset = r.body.keyset
    if (out.length > 100) throw new Error('keyset pages never ended')
  }
  return out
}

describe('keyset pages', () => {
  test('following the answers\' keyset reads every row once, in insertion order; the last page has no keyset', async () => {
    const all = (await post({ table: 'qk_t' })).body.rows!
    expect(all).toHaveLength(300)
    const got = await pages({ table: 'qk_t', limit: 70 })
    expect(got.flatMap((p) => p.rows)).toEqual(all)
    expect(got.map((p) => p.rows!.length)).toEqual([70, 70, 70, 70, 20])
    expect(got.map((p) => p.keyset !== undefined)).toEqual([true, true, true, true, false])
    // A full last page is followed by an empty one, which ends the paging.
    expect((await pages({ table: 'qk_t', limit: 100 })).map((p) => p.rows!.length)).toEqual([100, 100, 100, 0])
    // A filter keeps its rows; the position is that of the last row returned, past rows the filter skipped.
    const odd = await pages({ table: 'qk_t', where: { fn: 'eq', args: [{ col: 'tag' }, { lit: 'odd' }] }, select: [{ name: 'id', expr: { col: 'id' } }], limit: 40 })
    expect(odd.flatMap((p) => p.rows!.map((r) => r.id))).toEqual(all.filter((r) => r.tag === 'odd').map((r) => r.id))
  })

  test('the position is a row position: after a position past the last row, no rows; after 0, all of them', async () => {
    expect((await post({ table: 'qk_t', keyset: { after: '9223372036854775807' } })).body).toEqual({ columns: expect.any(Array), rows: [] })
    expect((await post({ table: 'qk_t', keyset: { after: '0' } })).body.rows).toHaveLength(300)
  })

  test('without a limit a page holds up to the answer cap and says where the next starts; a larger limit is a 413', async () => {
    const got = await pages({ table: 'qk_t' }, small)
    expect(got.map((p) => p.rows!.length)).toEqual([100, 100, 100, 0])
    const big = await post({ table: 'qk_t', limit: 101, keyset: {} }, { on: small })
    expect([big.status, big.body.error?.code]).toEqual([413, 'TOO_LARGE'])
  })

  test('an aggregate over the whole table is one row: the first page is all of it, and a position after it is refused', async () => {
    const select = [{ name: 'n', expr: { fn: 'count', args: [] } }]
    const first = await post({ table: 'qk_t', select, limit: 1, keyset: {} })
    expect(first).toEqual({ status: 200, body: { columns: [{ name: 'n', type: 'int' }], rows: [{ n: 300 }] } })
    const after = await post({ table: 'qk_t', select, limit: 1, keyset: { after: '5' } })
    expect([after.status, after.body.error?.details?.path]).toEqual([400, 'keyset.after'])
  })
})

describe('bad keyset input is a 400 naming the field, never a 5xx', () => {
  test('a malformed keyset or position', async () => {
    const cases: [unknown, string][] = [
      ['abc', 'keyset'],
      [null, 'keyset'],
      [[], 'keyset'],
      [5, 'keyset'],
      [{ after: 'abc' }, 'keyset.after'],
      [{ after: 12 }, 'keyset.after'],
      [{ after: null }, 'keyset.after'],
      [{ after: '-1' }, 'keyset.after'],
      [{ after: '01' }, 'keyset.after'],
      [{ after: '' }, 'keyset.after'],
      [{ after: '1.5' }, 'keyset.after'],
      [{ after: '1e3' }, 'keyset.after'],
      [{ after: ' 1' }, 'keyset.after'],
      [{ after: '١٢' }, 'keyset.after'],
      [{ after: '9223372036854775808' }, 'keyset.after'],
      [{ after: '99999999999999999999' }, 'keyset.after'],
      [{ after: '9'.repeat(100_000) }, 'keyset.after'],
      [{ after: { lit: 1 } }, 'keyset.after'],
      [{ after: '1', table: 'qk_secret/rows' }, 'keyset.table'],
      [{ before: '1' }, 'keyset.before'],
    ]
    for (const [keyset, path] of cases) {
      const r = await post({ table: 'qk_t', limit: 10, keyset })
      const shown = JSON.stringify(keyset).slice(0, 40)
      expect({ shown, status: r.status, code: r.body.error?.code, path: r.body.error?.details?.path }).toEqual({ shown, status: 400, code: 'INVALID_ARGUMENT', path })
      expect(r.body.error!.message.startsWith(`${path}: `)).toBe(true)
    }
  })

  test('a query keyset paging cannot serve, or keyset with head, tail, count or an NDJSON stream', async () => {
    const id = { col: 'id' }
    const bodies: Record<string, unknown>[] = [
      { table: 'qk_t', orderBy: [{ expr: id }] },
      { table: 'qk_t', groupBy: [{ col: 'tag' }], select: [{ name: 'tag', expr: { col: 'tag' } }] },
      { table: 'qk_t', distinct: true },
      { table: 'qk_t', sample: { n: 5 } },
      { table: 'qk_t', offset: 10 },
      { table: 'qk_t', insertionOrder: 'desc' },
      { table: 'qk_t', joins: [{ table: 'qk_secret/rows', how: 'cross' }], select: [{ name: 'id', expr: { col: 'id', tbl: 'qk_t' } }] },
      { table: 'qk_t', head: 5 },
      { table: 'qk_t', tail: 5 },
      { table: 'qk_t', count: true },
    ]
    for (const body of bodies) {
      for (const keyset of [{}, { after: '7' }]) {
        const r = await post({ ...body, keyset })
        expect({ body, status: r.status, path: r.body.error?.details?.path }).toEqual({ body, status: 400, path: 'keyset' })
      }
    }
    const ordered = await post({ table: 'qk_t', orderBy: [{ expr: id }], keyset: {} })
    expect(ordered.body.error?.message).toContain('orderBy')
    expect(ordered.body.error?.message).toContain('limit and offset')
    expect((await post({ table: 'qk_t', keyset: {} }, { accept: 'application/x-ndjson' })).status).toBe(400)
  })
})

describe('a position reads nothing the token could not read without it', () => {
  test('a token scoped to one dir: another table is missing with or without a position, its own table pages', async () => {
    const created = await post({ table: 'qk_t', limit: 1 })
    expect(created.status).toBe(200)
    const res = await app.fetch(new Request('http://127.0.0.1/api/v1/tokens', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ name: 'qk_reader', scopes: [{ prefix: 'qk_mine', access: 'read' }] }),
    }))
    const { token } = (await res.json()) as { token: string }
    const mine = await db.createTable('qk_mine/rows', { id: 'int' })
    await mine.insert(Array.from({ length: 30 }, (_, i) => ({ id: i })))
    for (const keyset of [undefined, {}, { after: '0' }, { after: '5' }]) {
      const r = await post({ table: 'qk_secret/rows', ...(keyset ? { keyset } : {}) }, { token })
      expect({ keyset, status: r.status, code: r.body.error?.code, rows: r.body.rows }).toEqual({ keyset, status: 404, code: 'TABLE_NOT_FOUND', rows: undefined })
      const joined = await post({ table: 'qk_mine/rows', joins: [{ table: 'qk_secret/rows', how: 'cross' }], ...(keyset ? { keyset } : {}) }, { token })
      expect([joined.status, joined.body.rows]).toEqual([404, undefined])
    }
    const own = (await post({ table: 'qk_mine/rows', limit: 10, keyset: {} }, { token })).body
    expect(own.rows!.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const next = (await post({ table: 'qk_mine/rows', limit: 10, keyset: own.keyset }, { token })).body
    expect(next.rows!.map((r) => r.id)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
  })
})

test('/openapi.json documents keyset: the request field with its bounds, and the answer\'s keyset', async () => {
  const doc = (await (await app.fetch(new Request('http://127.0.0.1/openapi.json'))).json()) as { paths: Record<string, Record<string, any>> }
  for (const path of ['/api/v1/query', '/api/v1/tables/{path}/-/query']) {
    const op = doc.paths[path]!.post
    const keyset = op.requestBody.content['application/json'].schema.properties.keyset
    expect(keyset.type).toBe('object')
    expect(keyset.additionalProperties).toBe(false)
    expect(keyset.properties.after).toMatchObject({ type: 'string', maxLength: 19, pattern: '^(0|[1-9][0-9]*)$' })
    expect(op.responses['200'].content['application/json'].schema.properties.keyset.properties.after.type).toBe('string')
  }
})
