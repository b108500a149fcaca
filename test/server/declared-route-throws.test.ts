import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { applySetup, defineSetup, loadRoutes } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/index.ts'
import { runtime } from '../../src/runtime/index.ts'
import { memoryDb } from '../support/db.ts'

// A declared route's own failure (a bug in the route, not in the request) answers a JSON error that names the route,
// is logged as a request, and shows nothing of the server's internals. Before, a route that threw something that is
// not an Error (`throw { x: 1 }`) escaped Hono's error handler: Bun's HTML development error page (with the server's
// cwd), no request log line, and `tessera serve` then exited 1 on SIGTERM; a result JSON cannot hold (a BigInt)
// answered a bare "internal error".

let db: Tessera
let app: ReturnType<typeof createApp>
const logged: string[] = []
const errors: unknown[][] = []
const consoleError = console.error

const setup = defineSetup(async (s) => {
  const { v: vb } = s
  s.route.call('/throws-object', vb.object({}), async () => {
    throw { x: 1, secret: 'sk-SECRET' }
  })
  s.route.call('/throws-string', vb.object({}), async () => {
    throw 'sk-SECRET string'
  })
  s.route.call('/throws-undefined', vb.object({}), async () => {
    throw undefined
  })
  s.route.call('/throws-error', vb.object({}), async () => {
    throw new Error('sk-SECRET detail')
  })
  s.route.call('/throws-invalid', vb.object({}), async (_p, ctx) => {
    await ctx.table('no/such/table')
    return null
  })
  s.route.call('/bigint', vb.object({}), async () => ({ n: 10n }))
  s.route.call('/cyclic', vb.object({}), async () => {
    const o: Record<string, unknown> = {}
    o.self = o
    return o
  })
  s.route.call('/fine', vb.object({}), async () => ({ ok: true }))
})

beforeAll(async () => {
  db = await memoryDb()
  await applySetup(setup, db as unknown as SetupTarget)
  const { routes } = await loadRoutes(setup, db as unknown as SetupTarget)
  app = createApp(db, { routes, log: (line) => logged.push(line) })
  console.error = (...args: unknown[]) => void errors.push(args)
}, 120_000)
afterAll(async () => {
  console.error = consoleError
  await db?.close()
})

const post = (path: string) => app.request(`/api/v1/app${path}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } }

for (const path of ['/throws-object', '/throws-string', '/throws-undefined', '/throws-error']) {
  test(`a route that throws (${path}) answers a JSON 500 naming the route, logged, nothing of the thrown value`, async () => {
    logged.length = 0
    errors.length = 0
    const res = await post(path)
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toContain('application/json')
    const text = await res.text()
    const body = JSON.parse(text) as ErrorBody
    expect(body.error.code).toBe('INTERNAL')
    expect(body.error.message).toContain(`route ${path}`)
    expect(body.error.details).toEqual({ route: path })
    expect(text).not.toContain('SECRET')
    expect(text).not.toContain(process.cwd())
    expect(logged).toEqual([expect.stringMatching(new RegExp(`^POST /api/v1/app${path} 500 `))])
    // The server's log says what was thrown (the answer does not).
    expect(errors.length).toBe(1)
    expect(String(errors[0]![0])).toContain(`route ${path}`)
  })
}

test("a route's own TesseraError keeps its code (the route's answer, not a crash)", async () => {
  const res = await post('/throws-invalid')
  expect(res.status).toBe(404)
  expect(((await res.json()) as ErrorBody).error.code).toBe('TABLE_NOT_FOUND')
})

for (const [path, what] of [['/bigint', 'BigInt'], ['/cyclic', 'cyclic']]) {
  test(`a result JSON cannot hold (${what}) is a clear error naming the route`, async () => {
    logged.length = 0
    const res = await post(path)
    expect(res.status).toBe(500)
    const body = (await res.json()) as ErrorBody
    expect(body.error.code).toBe('INTERNAL')
    expect(body.error.message).toContain(`route ${path}`)
    expect(body.error.message).toContain('cannot be sent as JSON')
    expect(body.error.message).toContain(what)
    expect(body.error.details).toEqual({ route: path })
    expect(logged).toEqual([expect.stringMatching(new RegExp(`^POST /api/v1/app${path} 500 `))])
  })
}

test('a route that works is unchanged', async () => {
  const res = await post('/fine')
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ ok: true })
})

test('the runtime server answers a handler that throws anything with a JSON 500, never an HTML page', async () => {
  errors.length = 0
  const server = await (await runtime()).serve(() => {
    throw { x: 1 }
  }, { port: 0, hostname: '127.0.0.1' })
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/anything`)
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toContain('application/json')
    const text = await res.text()
    expect(text).not.toContain(process.cwd())
    expect((JSON.parse(text) as ErrorBody).error.code).toBe('INTERNAL')
    expect(errors.length).toBe(1)
  } finally {
    await server.stop()
  }
})

test('any handler that throws something not an Error answers the JSON 500 and is logged', async () => {
  const local = createApp(db, { log: (line) => logged.push(line) })
  local.post('/api/v1/not-an-error', () => {
    throw { x: 1 }
  })
  logged.length = 0
  errors.length = 0
  const res = await local.request('/api/v1/not-an-error', { method: 'POST' })
  expect(res.status).toBe(500)
  expect(((await res.json()) as ErrorBody).error).toEqual({ code: 'INTERNAL', message: 'internal error; see the server log' })
  expect(logged).toEqual([expect.stringMatching(/^POST \/api\/v1\/not-an-error 500 /)])
  expect(errors.length).toBe(1)
})
