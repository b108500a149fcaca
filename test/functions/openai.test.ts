import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { openai } from '../../src/functions/openai.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// A fake OpenAI-compatible server on 127.0.0.1: embeddings are [length, vowels, 1]; the first embeddings request
// gets a 429; any input containing FORBIDDEN gets a permanent 400.

let db: Tessera
let t: Table
let server: ReturnType<typeof Bun.serve>
const seen = { embeddings: 0, embeddingBatches: [] as number[], chat: 0, auth: new Set<string>(), dims: [] as unknown[] }

const vowels = (s: string) => [...s].filter((c) => 'aeiou'.includes(c)).length

beforeAll(async () => {
  server = Bun.serve({
    hostname: '127.0.0.1', port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      seen.auth.add(req.headers.get('authorization') ?? '')
      const body = await req.json() as Record<string, any>
      if (url.pathname === '/v1/embeddings') {
        seen.embeddings++
        if (seen.embeddings === 1) return new Response('{"error":{"message":"rate limited"}}', { status: 429, headers: { 'retry-after': '0' } })
        const input = body.input as string[]
        if (input.some((s) => s.includes('FORBIDDEN'))) return Response.json({ error: { message: 'input violates policy' } }, { status: 400 })
        seen.embeddingBatches.push(input.length)
        seen.dims.push(body.dimensions)
        // answer out of order: the client must sort by index
        return Response.json({ data: input.map((s, index) => ({ index, embedding: [s.length, vowels(s), 1] })).reverse(), model: body.model })
      }
      if (url.pathname === '/v1/chat/completions') {
        seen.chat++
        const last = body.messages.at(-1).content as string
        if (last.includes('FORBIDDEN')) return Response.json({ error: { message: 'bad prompt' } }, { status: 400 })
        if (last === 'flaky' && seen.chat === 1) return new Response('overloaded', { status: 503 })
        const sys = body.messages[0].role === 'system' ? `[${body.messages[0].content}] ` : ''
        return Response.json({ choices: [{ message: { role: 'assistant', content: `${sys}${body.model}: ${last.toUpperCase()} t=${body.temperature ?? '-'}` } }] })
      }
      return new Response('not found', { status: 404 })
    },
  })
  openai.configure({ baseUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: 'test-key', retries: { max: 3, backoffMs: 5 }, embeddingBatchSize: 2 })
  db = await memoryDb()
  t = await db.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, text: 'hello' }, { id: 2, text: 'sky' }, { id: 3, text: 'banana' }])
}, 120_000)
afterAll(async () => {
  await db.close()
  server.stop(true)
})

describe('openai-compatible client', () => {
  test('embeddings: batched, a 429 retried, stored as a computed column', async () => {
    const st = await t.addComputedColumn('emb', openai.embeddings(t.c.text, { model: 'fake-embed', dimensions: 3 }))
    expect(st.numExcs).toBe(0)
    expect(t.schema().emb).toBe('array<float32>[3]?')
    const rows = (await t.select('id', 'emb').orderBy(t.c.id).collect()).rows
    expect(rows.map((r) => Array.from(r.emb as number[]))).toEqual([[5, 2, 1], [3, 0, 1], [6, 3, 1]])
    expect(seen.embeddingBatches.sort()).toEqual([1, 2]) // 3 texts in batches of 2; the 429'd batch was retried
    expect(seen.embeddings).toBe(3)
    expect(seen.dims).toEqual([3, 3])
    expect([...seen.auth]).toEqual(['Bearer test-key'])
  })

  test('a permanent 400 becomes a per-cell error with onError ignore; other rows keep their values', async () => {
    const st = await t.insert([{ id: 4, text: 'FORBIDDEN words' }, { id: 5, text: 'ok' }], { onError: 'ignore' })
    expect(st.numExcs).toBe(1)
    expect(st.colsWithExcs).toEqual(['emb'])
    const rows = (await t.select({ id: t.c.id, emb: t.c.emb, et: t.c.emb.errortype, em: t.c.emb.errormsg }).where(t.c.id.ge(4)).orderBy(t.c.id).collect()).rows
    expect(rows[0]!.emb).toBeNull()
    expect(rows[0]!.et).toBe('HttpError')
    expect(String(rows[0]!.em)).toContain('HTTP 400')
    expect(String(rows[0]!.em)).toContain('input violates policy')
    expect(String(rows[0]!.em)).not.toContain('test-key')
    expect(Array.from(rows[1]!.emb as number[])).toEqual([2, 1, 1])
    expect(rows[1]!.et).toBeNull()
    // with the default onError ('abort') the same row refuses the insert
    await expect(await throwing(t.insert([{ id: 6, text: 'FORBIDDEN again' }]))).toThrow(/HTTP 400/)
    expect(await t.count()).toBe(5)
  })

  test('chat: prompt and system message, extra fields passed through, a 503 retried', async () => {
    const q = await db.createTable('qs', { id: 'int', q: 'string' })
    await q.insert([{ id: 1, q: 'flaky' }, { id: 2, q: 'hi' }])
    const rows = (await q.select({ a: openai.chat(q.c.q, { model: 'fake-chat', system: 'be brief', temperature: 0 }) }).orderBy(q.c.id).collect()).rows
    expect(rows).toEqual([{ a: '[be brief] fake-chat: FLAKY t=0' }, { a: '[be brief] fake-chat: HI t=0' }])
    expect(seen.chat).toBe(3)
    const m = (await q.select({ a: openai.chat([{ role: 'user', content: 'from messages' }], { model: 'm' }) }).limit(1).collect()).rows
    expect(m).toEqual([{ a: 'm: FROM MESSAGES t=-' }])
  })

  test('a model is required, and the base URL may come from the options', async () => {
    await expect(await throwing(t.select({ e: openai.embeddings(t.c.text, { model: '' }) }).collect())).toThrow(/needs opts.model/)
    const other = `http://127.0.0.1:${server.port}/v1/`
    const rows = (await t.where(t.c.id.eq(2)).select({ e: openai.embeddings(t.c.text, { model: 'x', baseUrl: other }) }).collect()).rows
    expect(Array.from(rows[0]!.e as number[])).toEqual([3, 0, 1])
  })

  test('an unreachable server is a transient error, retried, then reported', async () => {
    const dead = 'http://127.0.0.1:9/v1'
    const t0 = performance.now()
    await expect(await throwing(t.where(t.c.id.eq(1)).select({ e: openai.embeddings(t.c.text, { model: 'x', baseUrl: dead }) }).collect())).toThrow(/POST http:\/\/127.0.0.1:9\/v1\/embeddings failed/)
    expect(performance.now() - t0).toBeLessThan(10_000)
  })
})
