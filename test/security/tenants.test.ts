import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// Issue 17, findings 4 and 7, and the tenant matrix: two tenants (user_1, user_2), a reader of user_1 and an admin,
// against every route. A tenant's request about the other tenant's objects gets the same answer whether they exist
// or not (no existence oracle), never names objects it did not name itself, and changes nothing there; an
// operation on its own table that would touch the other tenant's objects (a force drop taking their view, a revert
// past their snapshot) is refused without naming them.

let db: Tessera
let app: ReturnType<typeof createApp>
const tok: Record<'admin' | 'u1' | 'u2' | 'r1', string> = { admin: '', u1: '', u2: '', r1: '' }
let jobKey = ''

beforeAll(async () => {
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
  tok.admin = await tokens.create('root', { admin: true })
  tok.u1 = await tokens.create('u1', { scopes: [{ prefix: 'user_1', access: 'write' }] })
  tok.u2 = await tokens.create('u2', { scopes: [{ prefix: 'user_2', access: 'write' }] })
  tok.r1 = await tokens.create('r1', { scopes: [{ prefix: 'user_1', access: 'read' }] })
  await db.createDir('user_1')
  await db.createDir('user_2')
  const mine = await db.createTable('user_1/t', { x: 'int' })
  await mine.insert([{ x: 1 }, { x: 2 }])
  const secret = await db.createTable('user_2/secret', { x: 'int' })
  await secret.insert([{ x: 7 }])
  const job = await db.jobs.start({ table: secret, column: 'twice', expr: secret.c.x.mul(2) })
  await db.jobs.wait(job.id)
  jobKey = job.key
})
afterAll(async () => { await db.close() })

type Who = keyof typeof tok
const call = async (who: Who, method: string, path: string, body?: unknown, type = 'application/json') => {
  const r = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${tok[who]}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
  return { status: r.status, text: await r.text() }
}

/** Every route, aimed at a target: P a table path, D a dir, K a job key. */
const routes = (P: string, D: string, K: string): [string, string, unknown?, string?][] => {
  const T = `/api/v1/tables/${P}`
  return [
    ['GET', `/api/v1/dirs?path=${D}`], ['POST', '/api/v1/dirs', { path: `${D}/new` }], ['DELETE', `/api/v1/dirs/${D}?force=true`],
    ['POST', '/api/v1/move', { from: P, to: 'user_1/moved' }], ['POST', '/api/v1/move', { from: 'user_1/t', to: `${P}_x` }],
    ['GET', `/api/v1/tables?dir=${D}`], ['POST', '/api/v1/tables', { path: `${D}/new`, schema: { x: 'int' } }],
    ['GET', T], ['DELETE', T], ['DELETE', `${T}?force=true`],
    ['POST', '/api/v1/views', { path: 'user_1/v2', base: P }], ['POST', '/api/v1/snapshots', { path: 'user_1/s2', base: P }],
    ['POST', '/api/v1/views', { path: `${P}_v`, base: 'user_1/t' }],
    ['GET', `${T}/-/rows`], ['POST', `${T}/-/rows`, { rows: [{ x: 1 }] }], ['PATCH', `${T}/-/rows`, { values: { x: 2 }, where: { lit: true } }],
    ['POST', `${T}/-/delete`, { all: true }], ['POST', `${T}/-/batch-update`, { rows: [{ x: 1 }] }],
    ['POST', `${T}/-/columns`, { name: 'c', type: 'int' }], ['DELETE', `${T}/-/columns/x`], ['POST', `${T}/-/columns/x/rename`, { to: 'y' }],
    ['POST', `${T}/-/columns/x/index`, {}], ['DELETE', `${T}/-/columns/x/index`],
    ['POST', `${T}/-/recompute`, { columns: 'twice' }], ['GET', `${T}/-/history`], ['POST', `${T}/-/revert`],
    ['GET', `${T}/-/indexes`], ['POST', `${T}/-/indexes`, { column: 'x', embed: { fn: 'lexical_embed', modality: 'text' } }],
    ['DELETE', `${T}/-/indexes/idx`], ['POST', `${T}/-/search`, { column: 'x', text: 'a' }],
    ['POST', `${T}/-/query`, {}], ['POST', '/api/v1/query', { table: P }],
    ['POST', '/api/v1/query', { table: 'user_1/t', joins: [{ table: P, on: { lit: true } }] }],
    ['POST', '/api/v1/export', { table: P }], ['POST', `${T}/-/import?format=csv`, 'x\n1\n', 'text/csv'],
    ['GET', `${T}/-/media?column=x&ref=a`],
    ['POST', '/api/v1/jobs', { table: P, column: 'c2', expr: { col: 'x' } }],
    ['GET', '/api/v1/jobs'], ['GET', `/api/v1/jobs/${K}`], ['GET', `/api/v1/jobs/${K}/events`], ['POST', `/api/v1/jobs/${K}/cancel`], ['POST', `/api/v1/jobs/${K}/resume`],
  ]
}

const state = async () => JSON.stringify({
  tables: await db.listTables('', { recursive: true }),
  rows: await (await db.getTable('user_2/secret')).collect().then((r) => r.rows),
  version: (await db.getTable('user_2/secret')).version,
  jobs: (await db.jobs.list()).map((j) => [j.key, j.status]),
})

describe('the tenant matrix', () => {
  test('every route is in the matrix', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> }
    const covered = new Set(routes('{path}', 'D', '{id}').map(([m, p]) => `${m} ${p.replace(/\?.*$/, '').replace(/\/(x|idx)(?=\/|$)/, '/{name}').replace('/api/v1/dirs/D', '/api/v1/dirs/{path}')}`))
    const adminOnly = /\/(tokens|admin|whoami)/
    // The MCP endpoint answers JSON-RPC, one route for every tool: test/mcp/mcp.test.ts scopes its tools per tenant.
    const ownTenantTests = /\/mcp$/
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (adminOnly.test(path) || ownTenantTests.test(path)) continue
        expect([`${method.toUpperCase()} ${path}`, covered.has(`${method.toUpperCase()} ${path}`)]).toEqual([`${method.toUpperCase()} ${path}`, true])
      }
    }
  })

  test("another tenant's objects: the same answer as missing ones, no foreign names, nothing changed", async () => {
    const before = await state()
    const existing = routes('user_2/secret', 'user_2', jobKey)
    const missing = routes('user_2/nothere', 'user_9', '0123456789abcdef0123456789abcdef')
    for (let i = 0; i < existing.length; i++) {
      const [m, p, body, type] = existing[i]!
      const a = await call('u1', m, p, body, type)
      const [m2, p2, body2, type2] = missing[i]!
      const b = await call('u1', m2, p2, body2, type2)
      const norm = (s: string) => s.replaceAll('user_2/secret', 'P').replaceAll('user_2/nothere', 'P').replaceAll(jobKey, 'K').replaceAll('0123456789abcdef0123456789abcdef', 'K').replace(/user_[29]/g, 'D')
      expect([m, p, a.status]).toEqual([m, p, b.status])
      expect([m, p, norm(a.text)]).toEqual([m, p, norm(b.text)])
      if (p !== '/api/v1/jobs') expect([m, p, a.status >= 400 && a.status < 500]).toEqual([m, p, true])
      expect(a.text).not.toContain('twice') // a column name of the other tenant's table
    }
    expect(await state()).toBe(before)
    // The other tenant's own token does reach them (the control).
    expect((await call('u2', 'GET', '/api/v1/tables/user_2/secret')).status).toBe(200)
    expect((await call('u2', 'GET', `/api/v1/jobs/${jobKey}`)).status).toBe(200)
  })

  test("a tenant's mistakes on its own table keep their message (a request field path is not another tenant's name)", async () => {
    // details.path holds the request's field (`limit`, `where`, `table`), shaped like a root-level table path.
    const cases: [unknown, string][] = [
      [{ table: 'user_1/t', limit: -1 }, 'limit: '],
      [{ table: 'user_1/t', where: { col: 'nope' } }, "unknown column 'nope'"],
      [{ table: 'user_1/t:99' }, 'has no version 99'],
      [{ table: 'user_1/t', head: -2 }, 'head'],
    ]
    for (const [body, says] of cases) {
      const r = await call('u1', 'POST', '/api/v1/query', body)
      expect([body, r.status >= 400 && r.status < 500, r.text]).toEqual([body, true, expect.stringContaining(says)])
      expect(r.text).not.toContain("outside this token's scope")
    }
  })

  test('a reader reads its scope and writes nothing; listings show only what a token may see', async () => {
    expect((await call('r1', 'GET', '/api/v1/tables/user_1/t/-/rows')).status).toBe(200)
    expect((await call('r1', 'POST', '/api/v1/tables/user_1/t/-/rows', { rows: [{ x: 3 }] })).status).toBe(403)
    expect((await call('r1', 'POST', '/api/v1/tables/user_1/t/-/delete', { all: true })).status).toBe(403)
    expect((await call('r1', 'DELETE', '/api/v1/tables/user_1/t')).status).toBe(403)
    expect(await (await db.getTable('user_1/t')).count()).toBe(2)
    expect(JSON.parse((await call('u1', 'GET', '/api/v1/dirs?recursive=true')).text).dirs).toEqual(['user_1'])
    expect(JSON.parse((await call('u1', 'GET', '/api/v1/tables?recursive=true')).text).tables).toEqual(['user_1/t'])
    expect(JSON.parse((await call('u1', 'GET', '/api/v1/jobs')).text).jobs).toEqual([])
    for (const p of ['/api/v1/tokens', '/api/v1/admin/check', '/metrics']) expect((await call('u1', 'GET', p)).status).toBe(403)
    expect((await call('admin', 'GET', '/api/v1/admin/check')).status).toBe(200)
  })
})

describe('finding 7: job ids and dirs', () => {
  test('jobs are named by unguessable keys; a guessed sequential id answers as a missing job', async () => {
    const listed = JSON.parse((await call('admin', 'GET', '/api/v1/jobs')).text).jobs as { id: string; table: string }[]
    expect(listed.map((j) => j.id)).toEqual([jobKey])
    expect(jobKey).toMatch(/^[0-9a-f]{32}$/)
    for (const id of ['1', '2', jobKey]) {
      const r = await call('u1', 'GET', `/api/v1/jobs/${id}`)
      expect(r.status).toBe(404)
      expect(r.text).not.toContain('user_2')
    }
  })

  test('a dir another tenant owns answers exactly as a missing one', async () => {
    const a = await call('u1', 'GET', '/api/v1/dirs?path=user_2')
    const b = await call('u1', 'GET', '/api/v1/dirs?path=user_9')
    expect(a.status).toBe(404)
    expect(a.text.replace('user_2', 'D')).toBe(b.text.replace('user_9', 'D'))
  })
})

describe("finding 4: an operation on A that would touch B's objects", () => {
  test('drop (with or without force) and revert are refused without naming B; nothing of B is dropped', async () => {
    await db.createView('user_2/spy', 'user_1/t')
    await db.createSnapshot('user_2/snap', 'user_1/t')
    for (const p of ['/api/v1/tables/user_1/t', '/api/v1/tables/user_1/t?force=true', '/api/v1/dirs/user_1?force=true']) {
      const r = await call('u1', 'DELETE', p)
      expect([p, r.status]).toEqual([p, 409])
      expect(r.text).not.toContain('user_2')
      expect(r.text).not.toContain('spy')
    }
    const rev = await call('u1', 'POST', '/api/v1/tables/user_1/t/-/revert')
    expect(rev.status).toBe(409)
    expect(rev.text).not.toContain('user_2')
    expect(rev.text).not.toContain('user_2/snap')
    expect(await db.listTables('user_2')).toEqual(['user_2/secret', 'user_2/snap', 'user_2/spy'])
    expect(await (await db.getTable('user_1/t')).count()).toBe(2)
    // An admin sees the names, and may force the drop.
    const adminSays = await call('admin', 'DELETE', '/api/v1/tables/user_1/t')
    expect(adminSays.text).toContain('user_2/spy')
    expect((await call('admin', 'DELETE', '/api/v1/tables/user_1/t?force=true')).status).toBe(200)
    expect(await db.listTables('user_2')).toEqual(['user_2/secret'])
  })

  test("dependents inside the tenant's own scope go with a force drop", async () => {
    const t = await db.createTable('user_1/own', { x: 'int' })
    await t.insert([{ x: 1 }])
    await db.createView('user_1/own_view', 'user_1/own')
    expect((await call('u1', 'DELETE', '/api/v1/tables/user_1/own')).status).toBe(409)
    expect((await call('u1', 'DELETE', '/api/v1/tables/user_1/own?force=true')).status).toBe(200)
    expect(await db.listTables('user_1')).not.toContain('user_1/own_view')
  })
})
