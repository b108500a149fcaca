import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import type { Tessera } from '../../src/index.ts'
import { TesseraError } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { applySetup, defineSetup, loadRoutes } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Declared routes that are wrong in themselves (not in the request): an insert route whose `returns` cannot be read
// back, and a route whose result does not match its declared schema. The first is refused where it is declared, or
// else before anything is inserted (it used to insert the rows and then answer 500); the second answers a typed
// INTERNAL that names the route and the mismatch, not a bare "internal error".

let db: Tessera
let app: ReturnType<typeof createApp>

const setup = defineSetup(async (s) => {
  const { v: vb } = s
  await s.createTable('keyed', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await s.createTable('nopk', { id: 'int', text: 'string' })
  // By path, the setup cannot see the table: the server checks before inserting.
  s.route.insert('/bypath', 'nopk', { returns: ['text'] })
  s.route.insert('/gone', 'keyed', { returns: ['nosuch'] })
  s.route.insert('/plain', 'keyed')
  s.route.call('/badresult', vb.object({}), async () => ({ x: 1 }), { result: vb.object({ y: vb.string() }) })
  s.route.call('/secret', vb.object({}), async () => ({ y: 'sk-SECRET-123' }), { result: vb.object({ y: vb.literal('ok') }) })
  s.route.call('/short', vb.object({}), async () => ({ y: 'ab' }), { result: vb.object({ y: vb.pipe(vb.string(), vb.minLength(3)) }) })
  s.route.query('/rows', vb.object({}), async (_p, ctx) => (await ctx.table('keyed')).select('id', 'text'), { result: vb.object({ id: vb.string() }) })
})

beforeAll(async () => {
  db = await memoryDb()
  await applySetup(setup, db as unknown as SetupTarget)
  const { routes } = await loadRoutes(setup, db as unknown as SetupTarget)
  app = createApp(db, { routes })
  await (await db.getTable('keyed')).insert([{ id: 1, text: 'one' }])
}, 120_000)
afterAll(async () => { await db?.close() })

const post = (path: string, body: unknown) =>
  app.request(`/api/v1/app${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } }

describe('an insert route with returns on a table without a primary key', () => {
  test('is refused where the setup declares it, naming the route and why (plan, apply and serve alike)', async () => {
    const bad = defineSetup(async (s) => {
      const t = await s.createTable('nopk2', { id: 'int', text: 'string' })
      s.route.insert('/nopk', t, { returns: ['text'] })
    })
    for (const run of [() => applySetup(bad, db as unknown as SetupTarget, { plan: true }), () => applySetup(bad, db as unknown as SetupTarget), () => loadRoutes(bad, db as unknown as SetupTarget)]) {
      const e = (await rejection(run())) as TesseraError
      expect(e).toBeInstanceOf(TesseraError)
      expect(e.code).toBe('INVALID_ARGUMENT')
      expect(e.message).toContain("route '/nopk'")
      expect(e.message).toContain('primary key')
    }
    // The same route without returns, or over a keyed table, is fine.
    const good = defineSetup(async (s) => {
      s.route.insert('/nopk', await s.createTable('nopk2', { id: 'int', text: 'string' }))
      s.route.insert('/keyed', await s.getTable('keyed'), { returns: ['text'] })
    })
    expect((await loadRoutes(good, db as unknown as SetupTarget)).routes.map((r) => r.path)).toEqual(['/nopk', '/keyed'])
  })

  test('declared by path: the request fails before anything is inserted', async () => {
    const r = await post('/bypath', { id: 2, text: 'second' })
    expect(r.status).toBe(500)
    const body = (await r.json()) as ErrorBody
    expect(body.error.code).toBe('INTERNAL')
    expect(body.error.message).toContain('route /bypath: returns needs a primary key on nopk')
    expect(body.error.message).toContain('nothing was inserted')
    expect(await (await db.getTable('nopk')).count()).toBe(0)
  })

  test('a returned column the table does not have: refused before the insert too', async () => {
    const r = await post('/gone', { id: 5, text: 'five' })
    expect(r.status).toBe(500)
    expect(((await r.json()) as ErrorBody).error.message).toContain("route /gone: returns names 'nosuch', which keyed does not have")
    const keyed = await db.getTable('keyed')
    expect(await keyed.where(keyed.c.id.eq(5)).count()).toBe(0)
  })
})

describe("a result that does not match the route's result schema", () => {
  test('answers INTERNAL naming the route, the field and the mismatch', async () => {
    const r = await post('/badresult', {})
    expect(r.status).toBe(500)
    const body = (await r.json()) as ErrorBody
    expect(body.error.code).toBe('INTERNAL')
    expect(body.error.message).toContain("route /badresult: the result field 'y' does not match its declared result: missing")
    expect(body.error.details).toEqual({ route: '/badresult', field: 'y' })
  })

  test('never shows the value the route produced', async () => {
    const body = (await (await post('/secret', {})).json()) as ErrorBody
    expect(body.error.code).toBe('INTERNAL')
    expect(body.error.message).toContain("route /secret: the result field 'y'")
    expect(body.error.message).toContain('got a string')
    expect(JSON.stringify(body)).not.toContain('sk-SECRET')
    const short = (await (await post('/short', {})).json()) as ErrorBody
    expect(short.error.message).toContain("field 'y' does not match its declared result: its min length check failed (expected >=3)")
  })

  test('a query route names the row', async () => {
    const r = await post('/rows', {})
    expect(r.status).toBe(500)
    expect(((await r.json()) as ErrorBody).error.message).toContain("route /rows: row 0 field 'id' does not match its declared result: expected string, got a number")
  })
})

describe('an insert route given a body that is not rows', () => {
  test('a JSON array, or rows that are not objects, is a 400 saying what to send (not "unknown column \'0\'")', async () => {
    for (const [body, says] of [
      [[{ id: 5, text: 'five' }], 'the body is a JSON array'],
      [{ rows: [{ id: 6, text: 'six' }, 7] }, 'row 1 is a number, not an object'],
      [{ rows: [null] }, 'row 0 is null, not an object'],
      [{ rows: [[1, 'x']] }, 'row 0 is an array, not an object'],
    ] as const) {
      const r = await post('/plain', body)
      expect(r.status).toBe(400)
      const e = ((await r.json()) as ErrorBody).error
      expect(e.message).toContain(says)
      expect(e.message).toContain('send one row as a JSON object, or {"rows": [...]}')
    }
    expect((await (await db.getTable('keyed')).count())).toBe(1)
    expect((await post('/plain', { rows: [{ id: 8, text: 'eight' }] })).status).toBe(200)
  })
})
