import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from '../../src/client/index.ts'
import type { RemoteTessera } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { udf } from '../../src/compute/udf.ts'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { memoryDb, MODELS_DIR, modelsMissing } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'

let db: Tessera
let app: ReturnType<typeof createApp>
let client: RemoteTessera
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  client = connect('http://localhost', { fetch: async (req) => app.fetch(req) })
})
afterAll(async () => { await db.close() })

// app is made in beforeAll: the caller looks it up at each call.
const call = jsonCaller({ request: (path, init) => app.request(path, init) })

describe('HTTP API: status codes and error bodies', () => {
  test('health', async () => {
    expect((await call('GET', '/health')).body.status).toBe('ok')
  })

  test('not found → 404, conflict → 409, invalid → 400, with stable codes', async () => {
    let r = await call('GET', '/api/v1/tables/nope')
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('TABLE_NOT_FOUND')
    r = await call('POST', '/api/v1/dirs', { path: 'h' })
    expect(r.status).toBe(201)
    r = await call('POST', '/api/v1/dirs', { path: 'h' })
    expect(r.status).toBe(409)
    expect(r.body.error.code).toBe('DIR_ALREADY_EXISTS')
    r = await call('POST', '/api/v1/dirs', { path: 'h', ifExists: 'ignore' })
    expect(r.status).toBe(200)
    r = await call('POST', '/api/v1/tables', { path: 'h/t', schema: { id: 'int', name: 'string' }, primaryKey: 'id' })
    expect(r.status).toBe(201)
    expect(r.body.columns.map((c: any) => c.name)).toEqual(['id', 'name'])
    r = await call('POST', '/api/v1/tables/h/t/-/rows', { rows: [{ id: 1, name: 'a' }, { id: 2, name: 3 }] })
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('INVALID_ROW')
    expect(r.body.error.details).toEqual({ row: 1, column: 'name' })
    r = await call('POST', '/api/v1/tables/h/t/-/rows', { rows: [{ id: 1, name: 'a' }] })
    expect(r.status).toBe(201)
    expect(r.body.numInserted).toBe(1)
    r = await call('POST', '/api/v1/tables/h/t/-/rows', { rows: [{ id: 1, name: 'dup' }] })
    expect(r.status).toBe(409)
    expect(r.body.error.code).toBe('CONSTRAINT_VIOLATION')
    r = await call('POST', '/api/v1/tables/h/t/-/rows', { rowz: [] })
    expect(r.status).toBe(400)
    const bad = await app.request('/api/v1/tables/h/t/-/rows', { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as any).error.message).toContain('not valid JSON')
    r = await call('POST', '/api/v1/tables', { path: 'h/bad', schema: { x: 'wat' } })
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('INVALID_TYPE')
    r = await call('GET', '/api/v1/nothing-here')
    expect(r.status).toBe(404)
  })
})

describe('HTTP client: the library interface over the API', () => {
  test('dirs, tables, rows, versions, columns', async () => {
    await client.createDir('c')
    const t = await client.createTable('c/docs', { id: 'int', text: 'string', at: 'timestamp?', raw: 'binary?' }, { primaryKey: 'id' })
    expect(await client.listTables('c')).toEqual(['c/docs'])
    const when = new Date('2024-01-02T03:04:05Z')
    let s = await t.insert([{ id: 1, text: 'hello', at: when, raw: new Uint8Array([1, 2, 3]) }, { id: 2, text: 'world' }])
    expect(s.numInserted).toBe(2)
    const rows = (await t.select('id', 'text', 'at', 'raw').orderBy('id').collect()).rows
    expect(rows[0]).toEqual({ id: 1, text: 'hello', at: when, raw: new Uint8Array([1, 2, 3]) })
    expect(rows[1]!.at).toBeNull()
    s = await t.update({ text: t.c.text.upper() }, { where: t.c.id.eq(2) })
    expect(s.numUpdated).toBe(1)
    await t.addComputedColumn('n', t.c.text.len())
    expect(t.schema().n).toBe('int?')
    expect((await t.select('id', 'n').collect()).rows).toEqual([{ id: 1, n: 5 }, { id: 2, n: 5 }])
    expect(await t.where(t.c.text.eq('WORLD')).count()).toBe(1)
    await t.upsert([{ id: 3, text: 'new' }])
    await t.delete({ where: t.c.id.eq(1) })
    const h = await t.history()
    expect(h.map((v) => v.kind)).toEqual(['delete', 'upsert', 'add_column', 'update', 'insert', 'create'])
    expect(h[0]!.createdAt).toBeInstanceOf(Date)
    const old = await client.get('c/docs:1')
    expect((await old.select('id', 'text').collect()).rows).toEqual([{ id: 1, text: 'hello' }, { id: 2, text: 'world' }])
    await t.revert()
    expect(await t.count()).toBe(3)
    await t.renameColumn('n', 'length')
    expect(Object.keys(t.schema())).toEqual(['id', 'text', 'at', 'raw', 'length'])
    const streamed: unknown[] = []
    for await (const r of t.select('id').stream({ batchSize: 2 })) streamed.push(r)
    expect(streamed).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }])
    const e = await client.getTable('c/missing').catch((x) => x)
    expect(e.code).toBe('TABLE_NOT_FOUND')
    expect(e.name).toBe('NotFoundError')
    await client.dropTable('c/docs')
    await client.dropDir('c')
    expect(await client.listDirs()).not.toContain('c')
  })
})

describe('HTTP: views and snapshots', () => {
  test('create a filter view and a snapshot over HTTP', async () => {
    const t = await client.createTable('vs_base', { id: 'int', price: 'float' })
    await t.insert([{ id: 1, price: 1 }, { id: 2, price: 5 }])
    const view = await client.createView('vs_cheap', t, { where: t.c.price.lt(2) })
    const snap = await client.createSnapshot('vs_snap', 'vs_base')
    await t.insert([{ id: 3, price: 0.5 }])
    expect((await view.select('id').collect()).rows).toEqual([{ id: 1 }, { id: 3 }])
    expect(await snap.count()).toBe(2)
    expect(snap.isReadOnly).toBe(true)
    const e = await view.insert([{ id: 9, price: 0 }]).catch((x: any) => x)
    expect(e.code).toBe('READ_ONLY')
  })
})

describe('HTTP: background jobs', () => {
  test('start a job, watch its progress as server-sent events, see the column', async () => {
    const t = await client.createTable('jobs_t', { id: 'int', name: 'string' })
    await t.insert(Array.from({ length: 300 }, (_, i) => ({ id: i, name: `n${i}` })))
    const r = await app.request('/api/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ table: 'jobs_t', column: 'shout', expr: { fn: 'upper', args: [{ col: 'name' }] }, batchSize: 100 }) })
    expect(r.status).toBe(201)
    const job = (await r.json()) as any
    const events = await (await app.request(`/api/v1/jobs/${job.id}/events?intervalMs=100`)).text()
    expect(events).toContain('event: progress')
    expect(events).toContain('event: end')
    const last = JSON.parse(events.trim().split('\n').filter((l) => l.startsWith('data:')).at(-1)!.slice(5))
    expect(last).toMatchObject({ status: 'done', rowsDone: 300, rowsTotal: 300 })
    await t.refresh()
    expect((await t.where(t.c.id.eq(7)).select('shout').collect()).rows).toEqual([{ shout: 'N7' }])
    const list = (await (await app.request('/api/v1/jobs')).json()) as any
    expect(list.jobs.some((j: any) => j.id === job.id)).toBe(true)
    expect((await app.request('/api/v1/jobs/99999')).status).toBe(404)
  })
})

describe('HTTP: embedding indexes and search through the client', () => {
  test('add, list, search, hybrid search and drop an index, as the library does', async () => {
    const t = await client.createTable('idx_docs', { id: 'int', text: 'string' })
    await t.insert([
      { id: 1, text: 'volcanoes erupt lava and ash' }, { id: 2, text: 'the stock market fell sharply' },
      { id: 3, text: 'lava flows cooled into basalt' }, { id: 4, text: 'interest rates and bond markets' },
    ])
    const status = await t.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex' })
    expect(status.numComputedValues).toBe(4)
    expect(t.listIndexes()).toEqual([expect.objectContaining({ name: 'lex', column: 'text', metric: 'cosine', fullText: 'english' })])
    expect(Object.keys(t.schema())).toEqual(['id', 'text']) // the vectors stay hidden
    // Same again with ifExists: 'ignore' changes nothing (a setup script run at every deploy).
    await t.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex', ifExists: 'ignore' })
    expect(t.listIndexes().length).toBe(1)

    const sim = t.c.text.similarity('lava')
    const top = (await t.orderBy(sim, 'desc').limit(2).select({ id: t.c.id, score: sim }).collect()).rows
    expect(top.map((r) => r.id).sort()).toEqual([1, 3])
    const hybrid = (await t.hybridSearch('lava basalt', { column: 'text', k: 2, where: t.c.id.gt(0) })).rows
    expect(hybrid[0]).toMatchObject({ id: 3, textRank: 1 })
    expect(typeof hybrid[0]!.score).toBe('number')

    // errors: true brings each computed column's per-cell error, on both search paths
    await t.addComputedColumn('num', t.c.text.astype('int'), { onError: 'ignore' })
    for (const hybrid of [false, true]) {
      const r = await call('POST', '/api/v1/tables/idx_docs/-/search', { column: 'text', text: 'lava', k: 1, hybrid, errors: true })
      expect(r.status).toBe(200)
      expect(r.body.rows[0]).toMatchObject({ id: expect.any(Number), num: null, 'num#errortype': expect.any(String), 'num#errormsg': expect.stringContaining('') })
      expect(r.body.columns.map((c: any) => c.name)).toContain('num#errortype')
    }
    expect(Object.keys((await call('POST', '/api/v1/tables/idx_docs/-/search', { column: 'text', text: 'lava', k: 1 })).body.rows[0])).not.toContain('num#errortype')
    await t.dropColumn('num')

    const bad = await t.addEmbeddingIndex('text', { embed: { fn: 'no_such_embedder', opts: {}, modality: 'text' } }).catch((e: any) => e)
    expect(bad).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no_such_embedder/) })
    const liar = await t.addEmbeddingIndex('text', { embed: { ...embedders.lexical(), modality: 'image' } }).catch((e: any) => e)
    expect(liar.message).toMatch(/'lexical_embed' cannot be used with modality 'image'.*must be string/)
    const dup = await t.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex' }).catch((e: any) => e)
    expect(dup.code).toBe('INDEX_ALREADY_EXISTS')

    await t.dropEmbeddingIndex('lex')
    expect(t.listIndexes()).toEqual([])
    expect(((await t.dropEmbeddingIndex('lex').catch((e: any) => e)) as any).code).toBe('INDEX_NOT_FOUND')
    await t.dropEmbeddingIndex('lex', { ifNotExists: 'ignore' })
    expect((await call('GET', '/api/v1/tables/idx_docs/-/indexes')).body.indexes).toEqual([])
    const doc = (await call('GET', '/openapi.json')).body
    expect(doc.paths['/api/v1/tables/{path}/-/indexes'].post).toBeDefined()
    expect(doc.paths['/api/v1/tables/{path}/-/indexes/{name}'].delete).toBeDefined()
  })

  const photosMissing = modelsMissing('testdata/dog.jpg', 'testdata/eagle.jpg', 'mobilenetv2/mobilenetv2-12-int8.onnx')
  test.skipIf(!!photosMissing)('bytes over the client: an image inserted as bytes, and a similarity search by image bytes', async () => {
    const dog = new Uint8Array(readFileSync(join(MODELS_DIR, 'testdata/dog.jpg')))
    const eagle = new Uint8Array(readFileSync(join(MODELS_DIR, 'testdata/eagle.jpg')))
    const t = await client.createTable('cl_photos', { id: 'int', photo: 'image', raw: 'binary?' })
    await t.insert([{ id: 1, photo: dog, raw: new Uint8Array([1, 2, 3]) }, { id: 2, photo: eagle.buffer }])
    const rows = (await t.orderBy(t.c.id).select('id', 'photo', 'raw').collect()).rows
    expect(rows[0]).toMatchObject({ id: 1, photo: expect.stringMatching(/^media:\/\/[0-9a-f]+\.jpg$/), raw: new Uint8Array([1, 2, 3]) })
    await t.update({ photo: eagle }, { where: t.c.id.eq(1) })
    await t.update({ photo: dog }, { where: t.c.id.eq(1) })
    await t.addEmbeddingIndex('photo', { embed: embedders.image(join(MODELS_DIR, 'mobilenetv2/mobilenetv2-12-int8.onnx')) })
    const sim = t.c.photo.similarity({ image: dog })
    const top = (await t.orderBy(sim, 'desc').limit(2).select({ id: t.c.id, score: sim }).collect()).rows
    expect(top[0]).toMatchObject({ id: 1 })
    expect(top[0]!.score as number).toBeGreaterThan(0.99) // the same photo
    expect(await t.where(t.c.photo.similarity(eagle).gt(0.99)).count()).toBe(1)
  })

  test('client jobs: start, wait, list, as db.jobs', async () => {
    const t = await client.createTable('rjobs_t', { id: 'int', name: 'string' })
    await t.insert(Array.from({ length: 250 }, (_, i) => ({ id: i, name: `n${i}` })))
    const job = await client.jobs.start({ table: t, column: 'shout', expr: t.c.name.upper(), batchSize: 100 })
    expect(job).toMatchObject({ table: 'rjobs_t', column: 'shout' })
    expect(job.createdAt).toBeInstanceOf(Date)
    const done = await client.jobs.wait(job.id, { pollMs: 50 })
    expect(done).toMatchObject({ status: 'done', rowsDone: 250, rowsTotal: 250 })
    expect((await client.jobs.list()).some((j) => j.id === job.id)).toBe(true)
    await t.refresh()
    expect((await t.where(t.c.id.eq(3)).select('shout').collect()).rows).toEqual([{ shout: 'N3' }])
    expect(((await client.jobs.get('0'.repeat(32)).catch((e: any) => e)) as any).code).toBe('JOB_NOT_FOUND')
  })

  test('client jobs: an embedding index built in the background', async () => {
    const t = await client.createTable('rjobs_idx', { id: 'int', text: 'string' })
    await t.insert([{ id: 1, text: 'lava and ash' }, { id: 2, text: 'bonds and rates' }])
    const job = await client.jobs.startIndex({ table: t, column: 'text', embed: embedders.lexical(), name: 'lex', batchSize: 1 })
    expect(job).toMatchObject({ kind: 'add_embedding_index', index: 'lex', column: 'text' })
    expect((await client.jobs.wait(job.id, { pollMs: 20 })).status).toBe('done')
    await t.refresh()
    expect(t.listIndexes()).toEqual([expect.objectContaining({ name: 'lex', column: 'text' })])
    expect((await t.orderBy(t.c.text.similarity('lava'), 'desc').limit(1).select('id').collect()).rows).toEqual([{ id: 1 }])
    const both = await call('POST', '/api/v1/jobs', { table: 'rjobs_idx', column: 'text', expr: { col: 'text' }, index: { embed: embedders.lexical() } })
    expect(both.status).toBe(400)
    expect(both.body.error.message).toContain('exactly one of expr')
  })

  test('a stream that fails after its first rows ends with the error, never a silent truncation', async () => {
    // A TypeScript function (registered in this process, which is also the server's) that fails on the third row.
    udf({ name: 'test_stream_fails_on_3', returns: 'int', fn: (x: number) => { if (x === 3) throw new Error('three is right out'); return x * 10 } })
    const t = await client.createTable('cl_stream', { id: 'int' })
    await t.insert([{ id: 1 }, { id: 2 }, { id: 3 }])
    const got: unknown[] = []
    const err = await (async () => {
      for await (const row of t.orderBy(t.c.id).select({ n: t.c.id.apply('test_stream_fails_on_3') }).stream({ batchSize: 1 })) got.push(row)
    })().catch((e: any) => e)
    expect(got).toEqual([{ n: 10 }, { n: 20 }])
    expect(err).toMatchObject({ code: 'COMPUTATION_FAILED', message: expect.stringContaining('three is right out') })
  })

  test('client distinct, name and check, as the library', async () => {
    const t = await client.createTable('cl_misc/d', { k: 'string' }).catch(async () => {
      await client.createDir('cl_misc')
      return client.createTable('cl_misc/d', { k: 'string' })
    })
    expect(t.name).toBe('d')
    await t.insert([{ k: 'a' }, { k: 'b' }, { k: 'a' }])
    expect((await t.select('k').distinct().orderBy(t.c.k).collect()).rows).toEqual([{ k: 'a' }, { k: 'b' }])
    expect((await t.distinct().count())).toBe(2)
    expect(await client.check()).toEqual(await db.check())
  })
})
