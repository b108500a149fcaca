import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { anthropic, gemini, openAICompatible, setOutboundFetch } from '../../src/ai/index.ts'
import { abortableProviderRequests } from '../../src/cli/commands/serve-shutdown.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// README: "the server's API key goes to the server's base URL only". A base URL that answers 307 to another host used
// to have the request, key headers included (x-api-key, x-goog-api-key, custom headers), followed there, and the
// other host's answer stored as the provider's. Provider calls now refuse redirects with an error per cell that
// names the endpoint and the host the redirect pointed at, and are not retried.

let db: Tessera
let t: Table
let provider: FakeServer
let other: FakeServer
const compat = openAICompatible('redirect_compat', { baseUrl: 'http://127.0.0.1:1/v1' })

beforeAll(async () => {
  other = fakeServer((req) => req.path.endsWith('/messages')
    ? Response.json({ id: 'm', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'other origin' }], stop_reason: 'end_turn' })
    : req.path.includes('embed') ? Response.json({ data: [{ index: 0, embedding: [1, 2] }], embeddings: [{ values: [1, 2] }] })
    : req.path.includes('generateContent') ? Response.json({ candidates: [{ content: { role: 'model', parts: [{ text: 'other origin' }] }, finishReason: 'STOP' }] })
    : Response.json({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'other origin' }, finish_reason: 'stop' }] }))
  provider = fakeServer((req) => new Response(null, { status: 307, headers: { location: `${other.url}${req.path}` } }))
  const retries = { max: 2, backoffMs: 1 }
  compat.configure({ baseUrl: `${provider.url}/v1`, apiKey: 'sk-COMPAT-SECRET', headers: { 'x-proxy-token': 'PROXY-SECRET' }, retries })
  anthropic.configure({ baseUrl: `${provider.url}/v1`, apiKey: 'sk-ant-SECRET', retries })
  gemini.configure({ baseUrl: `${provider.url}/v1beta`, apiKey: 'GEMINI-SECRET', retries })
  db = await memoryDb()
  t = await db.createTable('redirected', { id: 'int', p: 'string' })
  await t.insert([{ id: 1, p: 'hello' }])
}, 120_000)

afterAll(async () => {
  setOutboundFetch((url, init) => fetch(url, init))
  await db?.close()
  provider?.stop()
  other?.stop()
})

const otherHost = () => new URL(other.url).host

/** Each expression's cell: null with an error that names the endpoint and the redirect's host; nothing reached the other server. */
async function expectRefused(cases: Record<string, ReturnType<typeof compat.chat>>, paths: Record<string, string>): Promise<void> {
  for (const [name, expr] of Object.entries(cases)) {
    const before = provider.seen.length
    const col = `c_${name}`
    await t.addComputedColumn(col, expr, { onError: 'ignore' })
    const row = (await t.select({ v: t.c[col]!, e: t.c[col]!.errormsg }).collect()).rows[0] as { v: unknown; e: string | null }
    expect(row.v).toBeNull()
    expect(row.e).toContain(`POST ${provider.url}${paths[name]}`)
    expect(row.e).toContain(`redirecting to host ${otherHost()}`)
    expect(row.e).toContain('redirects are not followed for provider calls')
    expect(row.e).not.toContain('SECRET')
    // A redirect is not retried: the same request would be redirected again.
    expect(provider.seen.length - before).toBe(1)
  }
  expect(other.seen.map((s) => s.path)).toEqual([])
}

test('OpenAI-compatible chat, streamed chat and embeddings do not follow a redirect to another host', async () => {
  await expectRefused({
    chat: compat.chat(t.c.p, { model: 'm' }),
    stream: compat.chat(t.c.p, { model: 'm', stream: true }),
    embed: compat.embeddings(t.c.p, { model: 'e' }),
  }, { chat: '/v1/chat/completions', stream: '/v1/chat/completions', embed: '/v1/embeddings' })
})

test('Anthropic messages (plain and streamed) do not carry x-api-key through a redirect', async () => {
  await expectRefused({
    msg: anthropic.messages(t.c.p, { model: 'm' }),
    msgs: anthropic.messages(t.c.p, { model: 'm', stream: true }),
  }, { msg: '/v1/messages', msgs: '/v1/messages' })
})

test('Gemini generateContent (plain and streamed) and embeddings do not carry x-goog-api-key through a redirect', async () => {
  await expectRefused({
    gen: gemini.generateContent(t.c.p, { model: 'g' }),
    gens: gemini.generateContent(t.c.p, { model: 'g', stream: true }),
    gemb: gemini.embeddings(t.c.p, { model: 'e' }),
  }, { gen: '/v1beta/models/g:generateContent', gens: '/v1beta/models/g:streamGenerateContent', gemb: '/v1beta/models/e:batchEmbedContents' })
})

test("under tessera serve's abortable provider requests, a redirect is refused the same way", async () => {
  abortableProviderRequests()
  try {
    await expectRefused({ served: anthropic.messages(t.c.p, { model: 'm' }) }, { served: '/v1/messages' })
  } finally {
    setOutboundFetch((url, init) => fetch(url, init))
  }
})
