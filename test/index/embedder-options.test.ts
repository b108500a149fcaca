import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { call, embedders } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'
import { rejection, throwing } from '../support/settle.ts'

// An embedder's options are stored with its index and rebuild every vector: a name the embedder does not take was
// kept and ignored (an HTTP index with opts {"bogus": 1} was created and listed with it), and lexical_embed took any
// dims (a read-only query with dims 10,000 held 320 MB for good). Both are refused by name, in the library and over
// HTTP, before anything runs.

setDefaultTimeout(60_000)

let db: Tessera
let t: Table
let app: ReturnType<typeof createApp>
const http = jsonCaller({ request: (path, init) => app.request(path, init) })

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  await db.createDir('user_alice')
  t = await db.createTable('user_alice/emb', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, text: 'river bank' }, { id: 2, text: 'money market' }])
})
afterAll(() => db.close())

const bogus = { fn: 'lexical_embed', opts: { bogus: 1 }, modality: 'text' as const }

describe('embedder options, library', () => {
  test('addEmbeddingIndex refuses an embedder option the function does not take, naming it and the ones it takes', async () => {
    const err = (await rejection(t.addEmbeddingIndex('text', { embed: bogus, name: 'b' }))) as { message: string; code: string; details: unknown }
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe("embedder 'lexical_embed': unknown option 'bogus'; it takes 'dims', 'seed', 'projection'")
    expect(err.details).toEqual({ option: 'bogus' })
    expect(t.listIndexes()).toEqual([])
  })

  test('the check runs before the ifExists answer and before any model loads', async () => {
    await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 16 }), name: 'ok', fullText: false })
    // ifExists: 'ignore' on an existing name used to return before looking at the embedder.
    await expect(await throwing(t.addEmbeddingIndex('text', { embed: bogus, name: 'ok', ifExists: 'ignore' }))).toThrow(/unknown option 'bogus'/)
    // A model that does not exist: the option is named, not the missing model (nothing was loaded).
    await expect(await throwing(t.addEmbeddingIndex('text', { embed: embedders.text('/nowhere/model', { maxLen: 64 } as never) }))).toThrow(/embedder 'embed_text': unknown option 'maxLen'; it takes 'model', 'dims', 'maxLength'/)
    await expect(await throwing(t.addEmbeddingIndex('text', { embed: { fn: 'embed_image', opts: { model: '/nowhere', provider: 'cuda' }, modality: 'image' } }))).toThrow(/embedder 'embed_image': unknown option 'provider'/)
    await t.dropEmbeddingIndex('ok')
  })

  test('background index jobs refuse it too, when started', async () => {
    await expect(await throwing(db.jobs.startIndex({ table: t, column: 'text', embed: bogus }))).toThrow(/embedder 'lexical_embed': unknown option 'bogus'/)
    expect(t.listIndexes()).toEqual([])
  })

  test('lexical dims past LEXICAL_MAX_DIMS and unsafe seeds are refused for an index, naming the option and the bound', async () => {
    const err = (await rejection(t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 20_000 }) }))) as { message: string; details: unknown }
    expect(err.message).toMatch(/^embedder 'lexical_embed': opts.dims must be an integer from 1 to 2000 \(pgvector's HNSW limit\), got 20000$/)
    expect(err.details).toEqual({ option: 'dims' })
    await expect(await throwing(t.addEmbeddingIndex('text', { embed: embedders.lexical({ seed: 1.5 }) }))).toThrow(/opts.seed must be a safe integer, got 1.5/)
    await expect(await throwing(t.addEmbeddingIndex('text', { embed: { fn: 'lexical_embed', opts: { seed: '7' }, modality: 'text' } }))).toThrow(/opts.seed must be a safe integer, got "7"/)
    expect(t.listIndexes()).toEqual([])
  })

  test('a query naming lexical dims past the bound is refused before it runs', async () => {
    const q = t.select({ v: call('lexical_embed', [t.c.text], { dims: 10_000, seed: 11 }) })
    await expect(await throwing(q.collect())).toThrow(/lexical_embed\(\) opts.dims must be an integer from 1 to 2000/)
    const ok = await t.select({ v: call('lexical_embed', [t.c.text], { dims: 2000, projection: 'sparse' }) }).collect()
    expect((ok.rows[0]!.v as number[]).length).toBe(2000)
  })
})

describe('embedder options, HTTP', () => {
  const indexes = '/api/v1/tables/user_alice/emb/-/indexes'

  test('an embedding index with an unknown embedder option is 400, naming it, and not created', async () => {
    const r = await http('POST', indexes, { column: 'text', embed: bogus })
    expect(r.status).toBe(400)
    expect(r.body.error).toEqual({ code: 'INVALID_ARGUMENT', message: "embedder 'lexical_embed': unknown option 'bogus'; it takes 'dims', 'seed', 'projection'", details: { option: 'bogus' } })
    expect((await http('GET', indexes)).body.indexes).toEqual([])
  })

  test('an index request with an unknown top-level option is 400, naming it', async () => {
    const r = await http('POST', indexes, { column: 'text', nonsense_option: 1, embed: { fn: 'lexical_embed', opts: {}, modality: 'text' } })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toContain('nonsense_option')
    expect((await http('GET', indexes)).body.indexes).toEqual([])
  })

  test('a background index job with an unknown embedder option is 400 and starts nothing', async () => {
    const r = await http('POST', '/api/v1/jobs', { table: 'user_alice/emb', column: 'text', index: { embed: bogus } })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toContain("unknown option 'bogus'")
    expect((await http('GET', '/api/v1/jobs')).body.jobs).toEqual([])
  })

  test("the tester's query with lexical dims 10,000 is 400 naming opts.dims and the bound", async () => {
    const body = (seed: number) => ({
      table: 'user_alice/emb', limit: 1,
      select: { n: { fn: 'len', args: [{ fn: 'astype', args: [{ fn: 'lexical_embed', args: [{ col: 'text' }], opts: { dims: 10_000, seed } }], opts: { type: 'string' } }] } },
    })
    for (const seed of [11, 12, 13]) {
      const began = performance.now()
      const r = await http('POST', '/api/v1/query', body(seed))
      expect(r.status).toBe(400)
      expect(r.body.error.message).toMatch(/opts.dims must be an integer from 1 to 2000/)
      // Refused by the type check: no projection was built (that took 3.2 s a query).
      expect(performance.now() - began).toBeLessThan(1000)
    }
  })

  test('an index with lexical dims 20,000 is 400 naming opts.dims', async () => {
    const r = await http('POST', indexes, { column: 'text', embed: { fn: 'lexical_embed', opts: { dims: 20_000 }, modality: 'text' } })
    expect(r.status).toBe(400)
    expect(r.body.error.details).toEqual({ option: 'dims' })
    expect(r.body.error.message).toContain('from 1 to 2000')
  })
})
