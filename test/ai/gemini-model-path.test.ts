import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { gemini } from '../../src/ai/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'
import { fakeServer } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// Gemini takes the model in the request URL (<base>/models/<model>:generateContent). A model name is one path segment:
// '..', '/', '%2e%2e', '?' or '#' in it moved the request, the server's API key and the pass-through fields to another
// path of the provider's host (POST /tunedModels, /cachedContents, /files), chosen by whoever wrote the expression —
// a scoped token, over POST /query.

let db: Tessera
let t: Table
let google: FakeServer
let app: ReturnType<typeof createApp>
let tenant: string

const answer = { candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP', index: 0 }] }
const ESCAPES = ['../../tunedModels?', 'gemini-2.5-flash/../../../cachedContents#', '%2e%2e/%2e%2e/files?', 'models/../files', 'x?alt=json']

beforeAll(async () => {
  google = fakeServer((req) => (req.path.endsWith(':batchEmbedContents') ? Response.json({ embeddings: req.body.requests.map(() => ({ values: [1, 2] })) }) : Response.json(answer)))
  gemini.configure({ baseUrl: `${google.url}/v1beta`, apiKey: 'goog-key', retries: { max: 0, backoffMs: 1 } })
  db = await Tessera.open({ home: tempDir() })
  await db.createDir('user_1')
  t = await db.createTable('user_1/q', { id: 'int', p: 'string' })
  await t.insert([{ id: 1, p: 'hello' }])
  const tokens = new TokenStore(db.driver)
  tenant = await tokens.create('tenant1', { scopes: [{ prefix: 'user_1', access: 'write' }] })
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
}, 120_000)
afterAll(async () => {
  await db.close()
  google.stop()
})

test('a model name that would leave the models path is refused naming opts.model, before any request', async () => {
  for (const model of ESCAPES) {
    const chat = await throwing(t.select({ r: gemini.generateContent(t.c.p, { model }) }).collect())
    expect(chat).toThrow(`gemini.generate_content() opts.model must be a Gemini model name such as 'gemini-2.5-flash'`)
    expect(chat).toThrow(JSON.stringify(model))
    expect(await throwing(t.select({ r: gemini.generateContent(t.c.p, { model, stream: true }) }).collect())).toThrow('opts.model must be a Gemini model name')
    expect(await throwing(t.select({ r: gemini.vision(t.c.p, t.c.p, { model }) }).collect())).toThrow('opts.model must be a Gemini model name')
    expect(await throwing(t.select({ e: gemini.embeddings(t.c.p, { model }) }).collect())).toThrow('gemini.embeddings() opts.model must be a Gemini model name')
  }
  expect(google.seen).toEqual([])
})

test('a scoped token cannot point the server\'s keyed request at another provider path over POST /query', async () => {
  for (const model of ESCAPES) {
    const r = await app.request('/api/v1/query', {
      method: 'POST', headers: { authorization: `Bearer ${tenant}`, 'content-type': 'application/json' },
      body: JSON.stringify({ table: 'user_1/q', select: [{ name: 'r', expr: { fn: 'gemini.generate_content', args: [{ col: 'p' }], opts: { model, displayName: 'x' } } }] }),
    })
    expect({ model, status: r.status }).toEqual({ model, status: 400 })
    expect(JSON.stringify(await r.json())).toContain('opts.model must be a Gemini model name')
  }
  expect(google.seen).toEqual([])
})

test('model names as Gemini spells them still reach their own paths', async () => {
  const paths = async (model: string) => {
    await t.select({ r: gemini.generateContent(t.c.p, { model }) }).collect()
    return google.seen.at(-1)!.path
  }
  expect(await paths('gemini-2.5-flash')).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
  expect(await paths('models/gemini-2.0-flash-001')).toBe('/v1beta/models/gemini-2.0-flash-001:generateContent')
  expect(await paths('tunedModels/my-tuned_model.v2')).toBe('/v1beta/tunedModels/my-tuned_model.v2:generateContent')
  await t.select({ e: gemini.embeddings(t.c.p, { model: 'gemini-embedding-001' }) }).collect()
  expect(google.seen.at(-1)!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents')
  expect(google.seen.at(-1)!.body.requests[0].model).toBe('models/gemini-embedding-001')
})
