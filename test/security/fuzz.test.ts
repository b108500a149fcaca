import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { runtime } from '../../src/runtime/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// Issue 17's fuzz test: every route /openapi.json lists × malformed path parameters, query parameters and bodies
// (wrong types, NaN/Infinity, huge and negative numbers, prototype keys, deep nesting, empty and null bodies)
// against a real server on 127.0.0.1. No answer may be a 5xx, no connection may be reset, and /health answers
// after. Bounded: a fixed set of mutations (a few thousand requests) and a time budget, so CI on 2 cores stays
// well under a minute.

const BUDGET_MS = 45_000

let db: Tessera
let server: { port: number; stop(): Promise<void> }
let base: string
let admin: string
let jobKey = ''

beforeAll(async () => {
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  admin = await tokens.create('fuzz-admin', { admin: true })
  const app = createApp(db, { authenticate: tokens.authenticate, tokens, limits: { maxBodyBytes: 1024 * 1024, maxInsertRows: 1000, maxAnswerRows: 1000 } })
  server = await (await runtime()).serve(app.fetch, { port: 0, hostname: '127.0.0.1' })
  base = `http://127.0.0.1:${server.port}`
  await fixtures()
  const t = await db.getTable('fz/t')
  const job = await db.jobs.start({ table: t, column: 'up', expr: t.c.s.upper() })
  await db.jobs.wait(job.id)
  jobKey = job.key
}, 60_000)
afterAll(async () => {
  await server.stop()
  await db.close()
})

/** The objects the routes act on; put back before each route, since some mutations are valid deletes. */
async function fixtures(): Promise<void> {
  await db.createDir('fz', { ifExists: 'ignore' })
  const t = await db.createTable('fz/t', { x: 'int', s: 'string', j: 'json?' }, { ifExists: 'ignore' })
  if ((await t.count()) === 0) await t.insert([{ x: 1, s: 'a' }, { x: 2, s: 'b' }])
}

const deep = (n: number): unknown => {
  let x: unknown = 1
  for (let i = 0; i < n; i++) x = [x]
  return x
}
let deepNot: unknown = { col: 'x' }
for (let i = 0; i < 3000; i++) deepNot = { fn: 'not', args: [deepNot] }

/** Values that are wrong somewhere: each replaces one field of a valid body in turn. */
const BAD_VALUES: unknown[] = [
  null, '', 'toString', '__proto__', 'constructor', -1, 0, 1.5, 1e308, -1e308, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, true, [], {}, [null],
  { toString: 1 }, 'x'.repeat(100_000), deep(2000), deepNot, { fn: 'toString', args: [] }, { col: '__proto__' }, { col: 'x', prop: 'errortype' },
  { fn: 'count', args: [{ fn: 'sum', args: [{ col: 'x' }] }] }, { lit: 1, type: 'toString' },
]
/** Expressions that are wrong in the engine's terms: each replaces the expressions of a valid body in turn. */
const BAD_EXPRS: unknown[] = [
  { fn: 'sum', args: [{ fn: 'sum', args: [{ col: 'x' }] }] }, { fn: 'count', args: [{ fn: 'max', args: [{ col: 's' }] }] },
  { col: 'x', prop: 'errortype' }, { col: 's', prop: 'errormsg' }, { col: 'nope' }, { col: 'x', tbl: 'fz/other' },
  { fn: 'upper', args: [] }, { fn: 'upper', args: [{ col: 'x' }, { col: 'x' }, { col: 'x' }] }, { fn: 'upper', args: [{ col: 'x' }] },
  { fn: 'gt', args: [{ col: 's' }, { lit: { a: 1 } }] }, { lit: 'abc', type: 'timestamp' }, { lit: [1, 'a', null], type: 'array<float32>[3]' },
  { fn: 'similarity', args: [{ col: 's' }, { lit: 'q' }] }, { fn: 'isin', args: [{ col: 'x' }, { lit: 'notalist' }] },
  { fn: 'image_resize', args: [{ col: 's' }], opts: { width: -5 } }, { fn: 'image_thumbnail', args: [{ lit: 'http://[::ffff:127.0.0.1]:1/x.jpg', type: 'image' }] },
  { fn: 'json_path', args: [{ col: 'j' }, { lit: '$$$' }] }, { fn: 'astype', args: [{ col: 's' }], opts: { type: 'toString' } },
  { fn: 'div', args: [{ col: 'x' }, { lit: 0 }] }, { fn: 'mod', args: [{ col: 'x' }, { lit: 0 }] }, { fn: 'pow', args: [{ col: 'x' }, { lit: 1e308 }] },
  { fn: 'substr', args: [{ col: 's' }, { lit: -5 }, { lit: 1e12 }] }, { fn: 'repeat', args: [{ col: 's' }, { lit: 1e9 }] },
]
const EXPR_FIELDS = ['where', 'expr', 'on']

/** Whole bodies that are wrong as a whole (raw text). */
const BAD_BODIES = ['', 'null', '[]', '"s"', '1e400', 'NaN', 'Infinity', '{', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {}}}', JSON.stringify(deep(5000)), '\u0000']
const BAD_PARAMS = ['abc', '-1', '0', '1.5', 'NaN', 'Infinity', '-Infinity', '1e400', '99999999999999999999', 'toString', '__proto__', '', '%00', 'x'.repeat(5000)]

/** A valid body per route, so each mutation gets past the other fields. */
const VALID: Record<string, unknown> = {
  'post /api/v1/dirs': { path: 'fz/d' },
  'post /api/v1/move': { from: 'fz/nothing', to: 'fz/elsewhere' },
  'post /api/v1/tables': { path: 'fz/t2', schema: { a: 'int' } },
  'post /api/v1/views': { path: 'fz/v', base: 'fz/t', where: { fn: 'gt', args: [{ col: 'x' }, { lit: 0 }] } },
  'post /api/v1/snapshots': { path: 'fz/s', base: 'fz/t' },
  'post /api/v1/tables/{path}/-/rows': { rows: [{ x: 3, s: 'c' }] },
  'patch /api/v1/tables/{path}/-/rows': { values: { s: 'z' }, where: { fn: 'eq', args: [{ col: 'x' }, { lit: 99 }] } },
  'post /api/v1/tables/{path}/-/delete': { where: { fn: 'eq', args: [{ col: 'x' }, { lit: 99 }] } },
  'post /api/v1/tables/{path}/-/batch-update': { rows: [{ x: 1, s: 'a' }], ifNotExists: 'ignore' },
  'post /api/v1/tables/{path}/-/columns': { name: 'c', expr: { fn: 'upper', args: [{ col: 's' }] } },
  'post /api/v1/tables/{path}/-/columns/{name}/rename': { to: 'y' },
  'post /api/v1/tables/{path}/-/columns/{name}/index': { ifExists: 'ignore' },
  'post /api/v1/tables/{path}/-/recompute': { columns: 'up' },
  'post /api/v1/tables/{path}/-/indexes': { column: 's', embed: { fn: 'lexical_embed', modality: 'text' }, metric: 'cosine' },
  'post /api/v1/tables/{path}/-/search': { column: 's', text: 'a', k: 3, hybrid: true, language: 'english' },
  'post /api/v1/query': { table: 'fz/t', select: [{ name: 'x', expr: { col: 'x' } }], where: { lit: true }, limit: 10 },
  'post /api/v1/tables/{path}/-/query': { select: { x: { col: 'x' } }, orderBy: [{ expr: { col: 'x' }, desc: true }] },
  'post /api/v1/export': { table: 'fz/t', where: { lit: true } },
  'post /api/v1/jobs': { table: 'fz/t', column: 'j2', expr: { fn: 'lower', args: [{ col: 's' }] } },
  'post /api/v1/tokens': { name: 'fz-tok', scopes: [{ prefix: 'fz', access: 'read' }] },
  'post /api/v1/admin/compact': { dryRun: true, tables: ['fz/t'] },
  'post /api/v1/admin/gc': { dryRun: true },
  'post /api/v1/admin/retention': { path: 'fz/t', policy: { keepVersions: 50 } },
  'post /api/v1/mcp': { jsonrpc: '2.0', id: 1, method: 'tools/list' },
}

interface Op { method: string; path: string; query: string[]; body: boolean }

test('every route × malformed input: never a 5xx, never a reset, healthy after', async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>> }
  const ops: Op[] = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({
    method, path, query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name), body: op.requestBody !== undefined,
  })))
  expect(ops.length).toBeGreaterThan(30)
  for (const op of ops) if (op.body) expect([op.method, op.path, VALID[`${op.method} ${op.path}`] !== undefined]).toEqual([op.method, op.path, true])

  const failures: string[] = []
  let sent = 0
  const started = Date.now()
  const send = async (op: Op, path: string, params: Record<string, string>, body: string | undefined, type = 'application/json') => {
    const qs = new URLSearchParams(params).toString()
    const url = `${base}${path}${qs ? `?${qs}` : ''}`
    sent++
    try {
      const r = await fetch(url, {
        method: op.method.toUpperCase(),
        headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': type } : {}) },
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(20_000),
      })
      const text = await r.text()
      if (r.status >= 500) failures.push(`${r.status} ${op.method} ${url.slice(0, 200)} ${body?.slice(0, 200) ?? ''} → ${text.slice(0, 300)}`)
    } catch (e) {
      failures.push(`RESET ${op.method} ${url.slice(0, 200)} ${body?.slice(0, 200) ?? ''}: ${(e as Error).message}`)
    }
  }
  const fill = (template: string, over: Partial<Record<'path' | 'name' | 'id', string>> = {}) =>
    template.replace('{path}', over.path ?? 'fz/t').replace('{name}', over.name ?? 'x').replace('{id}', over.id ?? jobKey)

  for (const op of ops.sort((a, b) => (a.method === 'delete' ? 1 : 0) - (b.method === 'delete' ? 1 : 0))) {
    if (Date.now() - started > BUDGET_MS) break
    await fixtures()
    const valid = VALID[`${op.method} ${op.path}`]
    const validBody = op.path.endsWith('/-/import') ? 'x,s\n5,e\n' : valid === undefined ? undefined : JSON.stringify(valid)
    const bodyType = op.path.endsWith('/-/import') ? 'text/csv' : 'application/json'
    // Path parameters.
    for (const key of ['path', 'name', 'id'] as const) {
      if (!op.path.includes(`{${key}}`)) continue
      for (const bad of [...BAD_PARAMS.map(encodeURIComponent), 'fz/t:abc', 'fz/t:99999999999999999999', 'fz//t', '..%2F..%2Fetc']) await send(op, fill(op.path, { [key]: bad }), {}, validBody, bodyType)
    }
    // Query parameters, one at a time.
    for (const q of op.query) for (const bad of BAD_PARAMS) await send(op, fill(op.path), { [q]: bad }, validBody, bodyType)
    if (!op.body && !op.path.endsWith('/-/import')) continue
    // Whole bodies, then one field at a time.
    for (const raw of BAD_BODIES) await send(op, fill(op.path), op.path.endsWith('/-/import') ? { format: 'csv' } : {}, raw, bodyType)
    if (op.path.endsWith('/-/import')) {
      for (const raw of ['x,s\n' + 'a,'.repeat(10_000), '\u0000\u0001\u0002', 'x\n1e400\n', '{"x": {"__proto__": 1}}']) for (const format of ['csv', 'json', 'jsonl', 'parquet']) await send(op, fill(op.path), { format }, raw, bodyType)
      continue
    }
    const fields = Object.keys(valid as Record<string, unknown>)
    // Numbers JSON can spell but JavaScript turns into Infinity, in every numeric field.
    for (const [k, x] of Object.entries(valid as Record<string, unknown>)) {
      if (typeof x === 'number') for (const n of ['1e400', '-1e400', '1e-400', '-0']) await send(op, fill(op.path), {}, JSON.stringify(valid).replace(`"${k}":${x}`, `"${k}":${n}`))
    }
    // Engine-level mistakes inside expressions (where, a computed column's expr, select items).
    for (const field of fields.filter((f) => EXPR_FIELDS.includes(f))) {
      for (const bad of BAD_EXPRS) await send(op, fill(op.path), {}, JSON.stringify({ ...(valid as Record<string, unknown>), [field]: field === 'where' ? { fn: 'and', args: [bad, { lit: true }] } : bad }))
    }
    if (fields.includes('select')) {
      for (const bad of BAD_EXPRS) for (const extra of [{}, { groupBy: [{ col: 's' }] }, { orderBy: [{ expr: bad }] }]) {
        await send(op, fill(op.path), {}, JSON.stringify({ ...(valid as Record<string, unknown>), select: [{ name: 'v', expr: bad }], ...extra }))
      }
    }
    for (const field of [...fields, '__proto__', 'toString', 'extra']) {
      for (const bad of BAD_VALUES) {
        const body = JSON.stringify({ ...(valid as Record<string, unknown>), [field]: bad })
        await send(op, fill(op.path), {}, field === '__proto__' ? body.replace('"__proto__"', '"__proto__"') : body)
      }
    }
  }
  const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) })
  expect(health.status).toBe(200)
  console.log(`fuzz: ${sent} requests over ${ops.length} routes in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  expect(failures).toEqual([])
}, 120_000)
