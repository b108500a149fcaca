import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import type { RemoteTessera } from '../../src/client/index.ts'
import { connect, HttpExecutor, TesseraError } from '../../src/client/index.ts'
import * as library from '../../src/types/paths.ts'
import type { Tessera } from '../../src/index.ts'
import { runtime } from '../../src/runtime/index.ts'
import type { RunningServer } from '../../src/runtime/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Names the HTTP client puts into URLs (src/client/urls.ts). Pasted in as they are, a name could reach another route:
// dropTable('docs/-/columns/extra') dropped a column, dropTable('docs?force=true') force-dropped a table and its view,
// getTable('../dirs') built a handle from the dir listing, getTable('t2#x') gave 't2'. The client must refuse what
// the library refuses, with the same error, before anything is sent, and legit paths (nested, versions) must work.
// A real server on loopback: the URL parser of fetch (dot segments, '?', '#') is part of what is tested.

let lib: Tessera
let server: RunningServer
let db: RemoteTessera
/** The URLs the client sent (path and query), so a test can say that a refused name sent nothing. */
const sent: string[] = []

beforeAll(async () => {
  lib = await memoryDb()
  server = await (await runtime()).serve(createApp(lib).fetch, { port: 0, hostname: '127.0.0.1' })
  db = connect(`http://127.0.0.1:${server.port}`, {
    fetch: (req) => {
      const u = new URL(req.url)
      sent.push(`${req.method} ${u.pathname}${u.search}`)
      return fetch(req)
    },
  })
})
afterAll(async () => {
  await server.stop()
  await lib.close()
})

/** A fresh 'docs' (with a nullable 'extra' column and a scalar index on 'text'), its view, and a table 't2'. */
beforeEach(async () => {
  await lib.dropTable('docs', { force: true, ifNotExists: 'ignore' })
  await lib.dropTable('t2', { ifNotExists: 'ignore' })
  const docs = await lib.createTable('docs', { id: 'int', text: 'string', extra: 'int?' })
  await docs.insert([{ id: 1, text: 'a' }])
  await docs.addScalarIndex('text')
  await lib.createView('docs_view', docs)
  await lib.createTable('t2', { id: 'int' })
  sent.length = 0
})

/** What the library holds now: tables, and docs' columns and indexed columns. */
async function state() {
  const docs = await lib.getTable('docs')
  return {
    tables: await lib.listTables('', { recursive: true }),
    columns: docs.columns().map((c) => `${c.name}${c.indexed ? '*' : ''}`),
    version: docs.version,
  }
}

/** The error `p` rejected with, as code and message (to compare the client's with the library's). */
async function failure(p: Promise<unknown> | (() => Promise<unknown>)): Promise<{ code: string; message: string }> {
  const e = await rejection(p)
  if (!(e instanceof TesseraError)) throw new Error(`expected a TesseraError, got ${String(e)}`)
  return { code: e.code, message: e.message }
}

describe('hostile table and dir paths are refused as the library refuses them, and nothing is sent', () => {
  const tablePaths = [
    'docs/-/columns/extra', // another route: DELETE .../columns/extra
    'docs/-/columns/text/index',
    'docs?force=true', // a query string: force-drops docs and its view
    'docs#x', // a fragment: names 'docs'
    't2#x',
    '../dirs', // a dot segment: GET /api/v1/dirs
    'docs/..',
    './docs',
    'docs/%2e%2e',
    'docs%2F-%2Fcolumns%2Fextra',
    'docs:3?force=true',
    '',
  ]

  for (const path of tablePaths) {
    test(`dropTable(${JSON.stringify(path)})`, async () => {
      const before = await state()
      const expected = await failure(lib.dropTable(path, { force: true }))
      expect(expected.code).toBe('INVALID_NAME')
      expect(await failure(db.dropTable(path))).toEqual(expected)
      expect(await failure(db.dropTable(path, { force: true }))).toEqual(expected)
      expect(sent).toEqual([])
      expect(await state()).toEqual(before)
    })

    test(`getTable(${JSON.stringify(path)})`, async () => {
      const expected = await failure(lib.getTable(path))
      expect(expected.code).toBe('INVALID_NAME')
      expect(await failure(db.getTable(path))).toEqual(expected)
      expect(sent).toEqual([])
    })

    test(`dropDir(${JSON.stringify(path)})`, async () => {
      const before = await state()
      const expected = await failure(lib.dropDir(path, { force: true }))
      expect(expected.code).toBe('INVALID_NAME')
      expect(await failure(db.dropDir(path, { force: true }))).toEqual(expected)
      expect(sent).toEqual([])
      expect(await state()).toEqual(before)
    })
  }

  test("a version where the library takes none ('docs:1' to dropTable) is refused the same way", async () => {
    const expected = await failure(lib.dropTable('docs:1'))
    expect(expected.code).toBe('INVALID_NAME')
    expect(await failure(db.dropTable('docs:1'))).toEqual(expected)
    expect(sent).toEqual([])
  })

  test("the query executor's table lookups check paths too", async () => {
    const exec = new HttpExecutor(db.http)
    expect((await failure(exec.currentVersion({ path: '../dirs', version: undefined }))).code).toBe('INVALID_NAME')
    expect((await failure(exec.currentVersion({ path: 'docs?x=1', version: undefined }))).code).toBe('INVALID_NAME')
    expect(sent).toEqual([])
  })

  test('names the library refuses (unicode, spaces) are refused by both alike', async () => {
    for (const path of ['données', 'my table', 'docs/ü', 'docs:1:2']) {
      const expected = await failure(lib.getTable(path))
      expect(expected.code).toBe('INVALID_NAME')
      expect(await failure(db.getTable(path))).toEqual(expected)
    }
    expect(sent).toEqual([])
  })
})

describe('column, index and job names travel as one encoded segment', () => {
  test("a column or index name with '?', '/', '#' or '%' is one segment: the server refuses it, nothing changes", async () => {
    const before = await state()
    const t = await db.getTable('docs')
    sent.length = 0
    for (const name of ['text?x=1', 'extra/index', 'text#x', 'extra/../text', 'text%3Fx', '%2e%2e', 'ü x']) {
      // The API checks a name in the URL as NameSchema does (src/api/request-pieces.ts): checkName's error.
      const expected = await failure(async () => library.checkName(name))
      for (const call of [
        () => t.dropColumn(name), () => t.dropColumn(name, { ifNotExists: 'ignore' }), () => t.renameColumn(name, 'renamed'),
        () => t.addScalarIndex(name), () => t.dropScalarIndex(name), () => t.dropScalarIndex(name, { ifNotExists: 'ignore' }),
        () => t.dropEmbeddingIndex(name), () => t.dropEmbeddingIndex(name, { ifNotExists: 'ignore' }),
      ]) {
        expect(await failure(call)).toEqual(expected)
      }
    }
    // Before the fix, 'text?x=1' dropped column 'text' and 'extra/index' reached the scalar-index route.
    expect(await state()).toEqual(before)
    // Each name was one segment, its reserved characters percent-encoded.
    expect(sent).toContain('DELETE /api/v1/tables/docs/-/columns/text%3Fx%3D1')
    expect(sent).toContain('DELETE /api/v1/tables/docs/-/columns/extra%2Findex/index?ifNotExists=ignore')
    expect(sent).toContain('POST /api/v1/tables/docs/-/columns/%C3%BC%20x/rename')
    expect(sent).toContain('DELETE /api/v1/tables/docs/-/indexes/text%23x')
  })

  test("'.', '..' and '' cannot be a URL segment: refused with the server's INVALID_NAME before anything is sent", async () => {
    const before = await state()
    const t = await db.getTable('docs')
    sent.length = 0
    for (const name of ['.', '..', '']) {
      const expected = await failure(async () => library.checkName(name))
      expect(expected.code).toBe('INVALID_NAME')
      for (const call of [
        () => t.dropColumn(name), () => t.dropColumn(name, { ifNotExists: 'ignore' }), () => t.renameColumn(name, 'x'),
        () => t.addScalarIndex(name), () => t.dropScalarIndex(name), () => t.dropEmbeddingIndex(name),
      ]) {
        expect(await failure(call)).toEqual(expected)
      }
    }
    expect(sent).toEqual([])
    expect(await state()).toEqual(before)
  })

  test('job ids: one that cannot be a segment names no job; others are encoded', async () => {
    for (const id of ['..', '.', '']) expect((await failure(db.jobs.get(id))).code).toBe('JOB_NOT_FOUND')
    expect(sent).toEqual([])
    expect((await failure(db.jobs.get('a/../../tables/docs'))).code).toBe('JOB_NOT_FOUND')
    expect((await failure(db.jobs.cancel('x?dropColumn=true'))).code).toBe('JOB_NOT_FOUND')
    expect(sent).toEqual(['GET /api/v1/jobs/a%2F..%2F..%2Ftables%2Fdocs', 'POST /api/v1/jobs/x%3FdropColumn%3Dtrue/cancel'])
  })
})

describe('legit paths keep working', () => {
  test('nested dirs, every table route, versions, and the library\'s lenient spellings', async () => {
    await db.createDir('n1/n2', { parents: true })
    const t = await db.createTable('n1/n2/items', { id: 'int', s: 'string' }, { primaryKey: 'id' })
    expect(t.path).toBe('n1/n2/items')
    await t.insert([{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
    await t.where(t.c.id.eq(2)).update({ s: 'B' })
    await t.update({ s: 'A' }, { where: t.c.id.eq(1) })
    await t.upsert([{ id: 3, s: 'c' }])
    await t.addColumn('n', 'int?')
    await t.addComputedColumn('up', t.c.s.upper())
    await t.renameColumn('n', 'm')
    await t.addScalarIndex('m')
    await t.dropScalarIndex('m')
    await t.dropColumn('m')
    await t.where(t.c.id.eq(3)).delete()
    expect((await t.orderBy(t.c.id).select('id', 'up').collect()).rows).toEqual([{ id: 1, up: 'A' }, { id: 2, up: 'B' }])
    const versions = (await t.history()).map((v) => v.version)
    expect(versions[0]).toBe(t.version)
    await t.refresh()

    // A version: 'path:N' reads that version; its URL keeps ':N' as the route pattern wants it.
    const v1 = await db.getTable('n1/n2/items:1')
    expect(v1.path).toBe('n1/n2/items:1')
    expect(v1.isReadOnly).toBe(true)
    expect(await v1.count()).toBe(2)
    expect((await v1.select('id', 's').orderBy('id').collect()).rows).toEqual([{ id: 1, s: 'a' }, { id: 2, s: 'b' }])
    await v1.refresh()
    expect(sent).toContain('GET /api/v1/tables/n1/n2/items:1')

    // What parsePath forgives in process (surrounding blanks and slashes) is forgiven over HTTP too.
    expect((await db.getTable(' /n1/n2/items/ ')).path).toBe('n1/n2/items')
    expect((await lib.getTable(' /n1/n2/items/ ')).path).toBe('n1/n2/items')

    await t.revert()
    expect(await (await db.getTable('n1/n2/items')).count()).toBe(3)
    expect(await db.listTables('n1/n2')).toEqual(['n1/n2/items'])
    await db.dropTable('n1/n2/items')
    await db.dropDir('n1/n2')
    await db.dropDir('n1')
    expect(await lib.listDirs('')).not.toContain('n1')
  })

  test("dropTable with force still forces through the query string, not the name", async () => {
    await db.dropTable('docs', { force: true })
    expect(await lib.listTables('')).toEqual(['t2'])
    expect(sent.at(-1)).toBe('DELETE /api/v1/tables/docs?force=true')
  })
})
