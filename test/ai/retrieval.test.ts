import { afterAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { embedders, udf } from '../../src/index.ts'
import { invokeTools, openai, retrievalFunction, retrievalFunctions, tools } from '../../src/ai/index.ts'
import type { RetrievalFunction } from '../../src/ai/index.ts'
import { functions } from '../../src/query/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { storeEnabled } from '../conformance/index.ts'
import type { MakeDb } from '../conformance/index.ts'
import { dropCreatedDatabases, pgSkipReason, serverDb } from '../store/pg-support.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// Retrieval functions (a parameterized query over a table, Pixeltable's @pxt.query) in every context a computed value
// is made in — select, insert, backfill, update cascade, background job, over HTTP, as a tool — on both stores.
// Each context gets a fresh database and a timeout, so a hang fails that test instead of blocking the suite (60 s: a
// fresh embedded database plus one context took 12–20 s on a loaded 2-core machine).

const CONTEXT_TIMEOUT = 60_000

const DOCS = [
  { id: 1, topic: 'volcano', text: 'lava flows downhill' },
  { id: 2, topic: 'volcano', text: 'ash clouds ground flights' },
  { id: 3, topic: 'ocean', text: 'tides follow the moon' },
  { id: 4, topic: 'volcano', text: 'magma chambers refill slowly' },
]

interface Fixture {
  db: Tessera
  docs: Table
  qs: Table
  search: RetrievalFunction
}

async function fixture(makeDb: MakeDb, name: string): Promise<Fixture> {
  const db = await makeDb()
  await db.createDir('kb')
  const docs = await db.createTable('kb/docs', { id: 'int', topic: 'string', text: 'string' }, { primaryKey: 'id' })
  await docs.insert(DOCS)
  // Redefined per database: the closure reads this database's table (a later definition replaces the earlier one).
  const search = retrievalFunction({
    name, description: 'Documents about a topic, newest ids first',
    params: { topic: 'string', k: 'int' },
    query: ({ topic, k }) => docs.where(docs.c.topic.eq(topic)).orderBy(docs.c.id, 'desc').limit(k).select({ id: docs.c.id, text: docs.c.text }),
  })
  const qs = await db.createTable('kb/questions', { id: 'int', topic: 'string', k: 'int' }, { primaryKey: 'id' })
  return { db, docs, qs, search }
}

const ids = (v: unknown) => (v as { id: number }[] | null)?.map((r) => r.id)

function contextSuite(store: string, makeDb: MakeDb) {
  const name = `search_docs_${store}`
  const withFixture = (fn: (f: Fixture) => Promise<void>) => async () => {
    const f = await fixture(makeDb, name)
    try {
      await fn(f)
    } finally {
      await f.db.close()
    }
  }

  test('select, and .run() with values', withFixture(async ({ qs, search }) => {
    await qs.insert([{ id: 1, topic: 'volcano', k: 2 }, { id: 2, topic: 'ocean', k: 5 }])
    const rows = (await qs.select({ id: qs.c.id, hits: search(qs.c.topic, qs.c.k) }).orderBy(qs.c.id).collect()).rows
    expect(rows.map((r) => ids(r.hits))).toEqual([[4, 2], [3]])
    expect(await search.run({ topic: 'volcano', k: 1 })).toEqual([{ id: 4, text: 'magma chambers refill slowly' }])
    await expect(await throwing(search.run({ topic: 'volcano' }))).toThrow(/argument 'k' is required/)
    await expect(await throwing(search.run({ topic: 3, k: 1 }))).toThrow(/argument 'topic' must be string/)
  }), CONTEXT_TIMEOUT)

  test('insert computes the column from the other table', withFixture(async ({ qs, search }) => {
    await qs.addComputedColumn('hits', search(qs.c.topic, qs.c.k))
    await qs.insert([{ id: 1, topic: 'volcano', k: 3 }])
    expect(ids((await qs.select('hits').collect()).rows[0]!.hits)).toEqual([4, 2, 1])
  }), CONTEXT_TIMEOUT)

  test('backfill of existing rows', withFixture(async ({ qs, search }) => {
    await qs.insert([{ id: 1, topic: 'ocean', k: 1 }, { id: 2, topic: 'volcano', k: 1 }])
    const st = await qs.addComputedColumn('hits', search(qs.c.topic, qs.c.k))
    expect(st.numExcs).toBe(0)
    expect((await qs.select('hits').orderBy(qs.c.id).collect()).rows.map((r) => ids(r.hits))).toEqual([[3], [4]])
  }), CONTEXT_TIMEOUT)

  test('update cascade recomputes', withFixture(async ({ qs, search }) => {
    await qs.addComputedColumn('hits', search(qs.c.topic, qs.c.k))
    await qs.insert([{ id: 1, topic: 'ocean', k: 2 }])
    await qs.where(qs.c.id.eq(1)).update({ topic: 'volcano' })
    expect(ids((await qs.select('hits').collect()).rows[0]!.hits)).toEqual([4, 2])
  }), CONTEXT_TIMEOUT)

  test('background job', withFixture(async ({ db, qs, search }) => {
    await qs.insert([{ id: 1, topic: 'volcano', k: 1 }, { id: 2, topic: 'ocean', k: 1 }])
    const job = await db.jobs.start({ table: qs, column: 'hits', expr: search(qs.c.topic, qs.c.k) })
    const done = await db.jobs.wait(job.id)
    expect(done.status).toBe('done')
    expect((await qs.select('hits').orderBy(qs.c.id).collect()).rows.map((r) => ids(r.hits))).toEqual([[4], [3]])
  }), CONTEXT_TIMEOUT)

  test('over HTTP: in a JSON query, under the caller\'s scopes', withFixture(async ({ db, qs }) => {
    await qs.insert([{ id: 1, topic: 'volcano', k: 2 }])
    const tokens = new TokenStore(db.driver)
    const admin = await tokens.create('root', { admin: true })
    const outsider = await tokens.create('other', { scopes: [{ prefix: 'kb/questions', access: 'read' }] })
    const app = createApp(db, { authenticate: tokens.authenticate, tokens })
    const body = JSON.stringify({ table: 'kb/questions', select: [{ name: 'hits', expr: { fn: name, args: [{ col: 'topic' }, { col: 'k' }] } }] })
    const ask = (token: string) => app.request('/api/v1/query', { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
    const ok = await ask(admin)
    expect(ok.status).toBe(200)
    expect(ids(((await ok.json()) as { rows: { hits: unknown }[] }).rows[0]!.hits)).toEqual([4, 2])
    // A token that may read the questions but not kb/docs does not get kb/docs through the function.
    const denied = await ask(outsider)
    expect(denied.status).toBe(403)
    // The answer names nothing of what the token may not see (the tenant boundary, src/server/tenant.ts).
    const message = ((await denied.json()) as { error: { message: string } }).error.message
    expect(message).toContain('has no read access to a table retrieval function')
    expect(message).not.toContain('kb/docs')
  }), CONTEXT_TIMEOUT)

  test("a column a scoped token defines reads no more for a later writer than its author could", withFixture(async ({ db }) => {
    // Found by exploratory testing: alice's column calling a function over kb/docs (not hers) was refused for her own
    // inserts but filled from kb/docs when an admin inserted, and alice read the rows back.
    await db.createDir('user_1')
    await db.createTable('user_1/asks', { id: 'int', topic: 'string', k: 'int' })
    const tokens = new TokenStore(db.driver)
    const admin = await tokens.create('root', { admin: true })
    const alice = await tokens.create('alice', { scopes: [{ prefix: 'user_1', access: 'write' }] })
    const app = createApp(db, { authenticate: tokens.authenticate, tokens })
    const post = async (token: string, path: string, body: unknown) => {
      const r = await app.request(path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
      return { status: r.status, body: (await r.json()) as Record<string, unknown> }
    }
    const hits = { fn: name, args: [{ col: 'topic' }, { col: 'k' }] }
    expect((await post(alice, '/api/v1/tables/user_1/asks/-/columns', { name: 'hits', expr: hits, onError: 'ignore' })).status).toBeLessThan(300)
    expect((await post(alice, '/api/v1/tables/user_1/asks/-/columns', { name: 'hits_read', expr: hits, stored: false })).status).toBeLessThan(300)
    expect((await post(admin, '/api/v1/tables/user_1/asks/-/rows', { rows: [{ id: 1, topic: 'volcano', k: 2 }], onError: 'ignore' })).status).toBeLessThan(300)
    await (await db.getTable('user_1/asks')).insert([{ id: 2, topic: 'ocean', k: 1 }], { onError: 'ignore' })
    const read = await post(alice, '/api/v1/query', { table: 'user_1/asks', select: { id: { col: 'id' }, hits: { col: 'hits' }, err: { col: 'hits', prop: 'errormsg' } }, orderBy: [{ expr: { col: 'id' } }] })
    const rows = read.body.rows as { id: number; hits: unknown; err: string }[]
    expect(rows.map((r) => [r.id, r.hits])).toEqual([[1, null], [2, null]])
    for (const r of rows) {
      expect(r.err).toContain("column 'hits', defined by token 'alice', has no read access to a table")
      expect(r.err).not.toContain('kb/docs')
    }
    // The unstored column is computed for its reader: an admin's read stays within alice's reach too.
    const adminRead = await post(admin, '/api/v1/query', { table: 'user_1/asks', select: { hits: { col: 'hits_read' } } })
    expect(adminRead.status).toBe(403)
    // The control: the admin's own expression reads kb/docs.
    const own = await post(admin, '/api/v1/query', { table: 'user_1/asks', select: { hits: hits }, orderBy: [{ expr: { col: 'id' } }] })
    expect((own.body.rows as { hits: unknown }[]).map((r) => ids(r.hits))).toEqual([[4, 2], [3]])
  }), CONTEXT_TIMEOUT)

  test('as a tool: described with a JSON schema, called by invokeTools', withFixture(async ({ qs, search }) => {
    const [spec] = tools([search])
    expect(spec).toEqual({
      name, description: 'Documents about a topic, newest ids first', fn: name, args: ['topic', 'k'],
      parameters: { type: 'object', properties: { topic: { type: 'string' }, k: { type: 'integer' } }, required: ['topic', 'k'], additionalProperties: false },
    })
    await qs.insert([{ id: 1, topic: 'x', k: 1 }])
    const response = { choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name, arguments: '{"topic":"ocean","k":3}' } }] } }] }
    const rows = (await qs.select({ r: invokeTools(tools([search]), response) }).collect()).rows
    expect(rows[0]!.r).toEqual([{ id: 'c1', name, args: { topic: 'ocean', k: 3 }, result: [{ id: 3, text: 'tides follow the moon' }] }])
  }), CONTEXT_TIMEOUT)
}

describe('retrieval functions: pglite', () => {
  if (storeEnabled('pglite')) contextSuite('pglite', memoryDb)

  test('top-k by similarity to an argument (embedding index), in select and as a retrieval function', async () => {
    const db = await memoryDb()
    try {
      await db.createDir('kb')
      const docs = await db.createTable('kb/chunks', { id: 'int', text: 'string' }, { primaryKey: 'id' })
      await docs.insert(DOCS.map(({ id, text }) => ({ id, text })))
      await docs.addEmbeddingIndex('text', { embed: embedders.lexical() })
      const similar = retrievalFunction({
        name: 'similar_chunks', description: 'The k chunks most similar to a question',
        params: { question: 'string', k: 'int' },
        query: ({ question, k }) => {
          const sim = docs.c.text.similarity(question)
          return docs.orderBy(sim, 'desc').limit(k).select({ id: docs.c.id, text: docs.c.text, score: sim })
        },
      })
      const hits = await similar.run({ question: 'lava flows', k: 2 })
      expect(hits[0]!.id).toBe(1)
      expect(hits).toHaveLength(2)
      expect(typeof hits[0]!.score).toBe('number')
      expect(retrievalFunctions().map((f) => f.fnName)).toContain('similar_chunks')
    } finally {
      await db.close()
    }
  }, 60_000)
})

const pgSkip = pgSkipReason()
if (pgSkip && storeEnabled('postgres')) console.warn(pgSkip)
;(storeEnabled('postgres') && !pgSkip ? describe : describe.skip)('retrieval functions: postgres', () => {
  afterAll(() => dropCreatedDatabases(), 30_000)
  contextSuite('postgres', serverDb)
})

test('retrieval function names must be tool names', () => {
  expect(() => retrievalFunction({ name: 'bad name', description: '', params: {}, query: () => { throw new Error() } })).toThrow(/letters, digits and _/)
  void openai
})

test("a retrieval function may not take a built-in's or a UDF's name (it replaced upper() for every query); redefining one is fine", async () => {
  const query = () => { throw new Error('not run') }
  const builtin = functions.get('upper')
  const upper = await throwing(() => retrievalFunction({ name: 'upper', description: '', params: { s: 'string' }, query }))
  expect(upper).toThrow("retrievalFunction(): 'upper' is already the name of a function (a built-in or a UDF); choose another name")
  expect(functions.get('upper')).toBe(builtin)
  expect(retrievalFunctions().map((f) => f.fnName)).not.toContain('upper')
  udf({ name: 'retrieval_name_udf', returns: 'int', params: ['int'], fn: (x: number) => x })
  expect(await throwing(() => retrievalFunction({ name: 'retrieval_name_udf', description: '', params: {}, query }))).toThrow('already the name of a function')
  const first = retrievalFunction({ name: 'retrieval_redefined', description: 'one', params: {}, query })
  const second = retrievalFunction({ name: 'retrieval_redefined', description: 'two', params: {}, query })
  expect(functions.get('retrieval_redefined')).toBe(second.def)
  expect(first.def).not.toBe(second.def)
})
