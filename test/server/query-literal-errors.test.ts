import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'

// POST /api/v1/query bodies whose literals are not values of the type they stand for, order keys Postgres cannot
// sort by, and reads racing a revert of a just-added column: each answered 500 INTERNAL (an Invalid Date, a driver's
// bytea refusal, Postgres's 42803 or 42703). They answer 400 naming the JSON path and expression, or 409.

let db: Tessera
let call: ReturnType<typeof jsonCaller>
beforeAll(async () => {
  db = await memoryDb()
  call = jsonCaller(createApp(db))
  expect((await call('POST', '/api/v1/tables', { path: 'ev', schema: { id: 'int', at: 'timestamp?', d: 'date?', b: 'binary?', s: 'string' } })).status).toBe(201)
  expect((await call('POST', '/api/v1/tables/ev/-/rows', { rows: [{ id: 1, at: '2024-01-01T00:00:00Z', d: '2024-01-01', b: 'AAAA', s: 'a' }] })).status).toBe(201)
})
afterAll(() => db.close())

const query = (body: Record<string, unknown>) => call('POST', '/api/v1/query', { table: 'ev', ...body })
const compare = (fn: string, col: string, lit: unknown) => ({ where: { fn, args: [{ col }, { lit }] } })

describe('literals', () => {
  test('a text that is no timestamp, compared with a timestamp column: 400 naming it, for every comparison', async () => {
    for (const fn of ['eq', 'ne', 'gt', 'ge', 'lt', 'le']) {
      const r = await query(compare(fn, 'at', 'yesterday'))
      expect(r.status).toBe(400)
      expect(r.body.error.code).toBe('INVALID_EXPRESSION')
      expect(r.body.error.message).toStartWith("where: 'yesterday' is not a timestamp value in (at ")
      expect(r.body.error.details.path).toBe('where')
    }
  })

  test("'2024-02-30' is refused by timestamp and date columns alike", async () => {
    for (const col of ['at', 'd']) {
      const r = await query(compare('gt', col, '2024-02-30'))
      expect(r.status).toBe(400)
      expect(r.body.error.message).toContain('February 2024 has 29 days')
    }
  })

  test('typed literals that do not fit their type: 400 naming the path', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ select: { x: { lit: { a: 1 }, type: 'binary' } } }, 'select.x'],
      [{ select: { x: { lit: true, type: 'date' } } }, 'select.x'],
      [{ select: { x: { lit: true, type: 'timestamp' } } }, 'select.x'],
      [{ select: { x: { lit: 1.5, type: 'array<float32>[2]' } } }, 'select.x'],
      [{ select: { x: { lit: -1, type: 'array<int32>[?]' } } }, 'select.x'],
      [{ select: { x: { lit: 1.5, type: 'int' } } }, 'select.x'],
      [{ where: { fn: 'eq', args: [{ col: 'b' }, { lit: true, type: 'binary' }] } }, 'where.args[1]'],
    ]
    for (const [body, path] of cases) {
      const r = await query(body)
      expect(r.status).toBe(400)
      expect(r.body.error.code).toBe('INVALID_EXPRESSION')
      expect(r.body.error.details.path).toBe(path)
      expect(r.body.error.message).toStartWith(`${path}: `)
    }
    const u = await call('PATCH', '/api/v1/tables/ev/-/rows', { values: { s: { lit: true, type: 'date' } } })
    expect(u.status).toBe(400)
  })

  test('base64 text typed binary is bytes', async () => {
    const r = await query({ where: { fn: 'eq', args: [{ col: 'b' }, { lit: 'AAAA', type: 'binary' }] }, select: { id: { col: 'id' }, x: { lit: 'AQID', type: 'binary' } } })
    expect(r.status).toBe(200)
    expect(r.body.rows).toEqual([{ id: 1, x: 'AQID' }])
  })

  test('a sample seed beyond ±2^53: 400 naming sample.seed', async () => {
    const r = await query({ sample: { n: 5, seed: 1e300 } })
    expect(r.status).toBe(400)
    expect(r.body.error.details.path).toBe('sample.seed')
  })
})

test('an aggregate in orderBy without groupBy: 400 naming it', async () => {
  const r = await query({ orderBy: [{ expr: { fn: 'count', args: [] } }] })
  expect(r.status).toBe(400)
  expect(r.body.error.code).toBe('INVALID_EXPRESSION')
  expect(r.body.error.details.expression).toBe('count()')
})

test('reads racing "add a column, then revert it" answer rows or the retryable 409, never 500', async () => {
  expect((await call('POST', '/api/v1/tables', { path: 'race', schema: { id: 'int', s: 'string' } })).status).toBe(201)
  expect((await call('POST', '/api/v1/tables/race/-/rows', { rows: Array.from({ length: 50 }, (_, i) => ({ id: i, s: `v${i}` })) })).status).toBe(201)
  const until = Date.now() + 4000
  const statuses = new Map<number, number>()
  const conflicts: string[] = []
  const read = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body)
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
    if (r.status === 409) conflicts.push(`${r.body.error.code}: ${r.body.error.message}`)
    if (r.status >= 500) conflicts.push(`${r.status}: ${JSON.stringify(r.body)}`)
  }
  let changes = 0
  await Promise.all([
    (async () => {
      while (Date.now() < until) {
        expect((await call('POST', '/api/v1/tables/race/-/columns', { name: 'extra', type: 'int?' })).status).toBe(201)
        expect((await call('POST', '/api/v1/tables/race/-/revert')).status).toBe(200)
        changes++
      }
    })(),
    ...[1, 2].map(async () => { while (Date.now() < until) await read('POST', '/api/v1/query', { table: 'race', limit: 5 }) }),
    (async () => { while (Date.now() < until) await read('GET', '/api/v1/tables/race/-/rows?limit=5') })(),
  ])
  expect(changes).toBeGreaterThan(0)
  expect([...statuses.keys()].filter((s) => s !== 200 && s !== 409)).toEqual([])
  for (const c of conflicts) expect(c).toBe("CONCURRENCY_CONFLICT: 'race' changed its columns while this query ran; run it again")
})
