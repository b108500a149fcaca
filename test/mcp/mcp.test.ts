import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Table, Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { MCP_BUILTIN_TOOLS, retrievalFunction } from '../../src/ai/index.ts'
import { builtinTools } from '../../src/server/mcp/tools.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// The MCP endpoint driven by the official SDK's own client over Streamable HTTP, against an in-process server with
// tokens: the built-in tools, a declared retrieval function, and scoping exactly as the HTTP API scopes.

let db: Tessera
let docs: Table
let app: ReturnType<typeof createApp>
let admin: string
let tenant: string
const open: Client[] = []

async function client(token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('http://tessera.test/api/v1/mcp'), {
    fetch: async (url, init) => app.fetch(new Request(url, init)),
    ...(token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}),
  })
  const c = new Client({ name: 'test-agent', version: '1.0.0' })
  await c.connect(transport)
  open.push(c)
  return c
}

type ToolResult = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: any }
const call = async (c: Client, name: string, args: Record<string, unknown>) => (await c.callTool({ name, arguments: args })) as ToolResult
const json = (r: ToolResult) => JSON.parse(r.content[0]!.text)

beforeAll(async () => {
  db = await memoryDb()
  await db.createDir('kb')
  await db.createDir('user_1')
  docs = await db.createTable('kb/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await docs.insert([{ id: 1, text: 'lava flows downhill' }, { id: 2, text: 'tides follow the moon' }, { id: 3, text: 'lava tubes are caves' }])
  await docs.addEmbeddingIndex('text', { embed: embedders.lexical() })
  await db.createTable('user_1/notes', { id: 'int', note: 'string' })
  retrievalFunction({
    name: 'mcp_kb_search', description: 'Documents containing a word',
    params: { word: 'string' }, paramDescriptions: { word: 'one lowercase word' },
    query: ({ word }) => docs.where(docs.c.text.contains(word)).orderBy(docs.c.id).select({ id: docs.c.id, text: docs.c.text }),
  })
  const tokens = new TokenStore(db.driver)
  admin = await tokens.create('root', { admin: true })
  tenant = await tokens.create('tenant1', { scopes: [{ prefix: 'user_1', access: 'write' }] })
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
}, 120_000)
afterAll(async () => {
  for (const c of open) await c.close()
  await db.close()
})

describe('MCP endpoint', () => {
  test('lists the built-in tools and the retrieval functions, with JSON schemas', async () => {
    const c = await client(admin)
    expect(c.getServerVersion()?.name).toBe('tessera')
    const { tools } = await c.listTools()
    const names = tools.map((t) => t.name)
    expect(names).toEqual(expect.arrayContaining(['list_tables', 'describe_table', 'query', 'similarity_search', 'hybrid_search', 'insert', 'mcp_kb_search']))
    const kb = tools.find((t) => t.name === 'mcp_kb_search')!
    expect(kb.description).toBe('Documents containing a word')
    expect(kb.inputSchema).toEqual({ type: 'object', properties: { word: { type: 'string', description: 'one lowercase word' } }, required: ['word'], additionalProperties: false })
    expect(tools.find((t) => t.name === 'similarity_search')!.inputSchema).toMatchObject({ type: 'object', required: ['table', 'column', 'text'] })
  })

  test('list, describe, query, similarity and hybrid search, insert, a retrieval function', async () => {
    const c = await client(admin)
    expect(json(await call(c, 'list_tables', {}))).toEqual(['kb/docs', 'user_1/notes'])
    const d = json(await call(c, 'describe_table', { table: 'kb/docs' }))
    expect(d.rows).toBe(3)
    expect(d.columns.map((x: { name: string }) => x.name)).toEqual(['id', 'text'])
    expect(d.indexes[0].column).toBe('text')
    const q = await call(c, 'query', { query: { table: 'kb/docs', where: { fn: 'contains', args: [{ col: 'text' }, { lit: 'lava' }] }, select: [{ name: 'id', expr: { col: 'id' } }], orderBy: [{ expr: { col: 'id' } }] } })
    expect(json(q)).toEqual([{ id: 1 }, { id: 3 }])
    expect(q.structuredContent).toEqual({ rows: [{ id: 1 }, { id: 3 }] })
    const sim = json(await call(c, 'similarity_search', { table: 'kb/docs', column: 'text', text: 'lava flows', k: 2 }))
    expect(sim[0].id).toBe(1)
    expect(sim).toHaveLength(2)
    expect(typeof sim[0].score).toBe('number')
    const hyb = json(await call(c, 'hybrid_search', { table: 'kb/docs', column: 'text', text: 'moon tides', k: 1 }))
    expect(hyb[0].id).toBe(2)
    const ins = json(await call(c, 'insert', { table: 'user_1/notes', rows: [{ id: 1, note: 'hi' }] }))
    expect(ins.inserted).toBe(1)
    expect(await (await db.getTable('user_1/notes')).count()).toBe(1)
    expect(json(await call(c, 'mcp_kb_search', { word: 'caves' }))).toEqual([{ id: 3, text: 'lava tubes are caves' }])
  })

  test('bad input is a tool error naming the field; unknown tools and tables are errors too', async () => {
    const c = await client(admin)
    const bad = await call(c, 'similarity_search', { table: 'kb/docs', column: 'text', text: 'x', k: 5000 })
    expect(bad.isError).toBe(true)
    expect(bad.content[0]!.text).toContain('k:')
    const missing = await call(c, 'mcp_kb_search', {})
    expect(missing.isError).toBe(true)
    expect(missing.content[0]!.text).toContain("argument 'word' is required")
    // Hybrid search over a column that is not text names the column, not the fts_match() call it builds.
    const notText = await call(c, 'hybrid_search', { table: 'kb/docs', column: 'id', text: 'lava' })
    expect(notText.isError).toBe(true)
    expect(notText.content[0]!.text).toBe("INVALID_ARGUMENT: hybridSearch(): column 'id' of 'kb/docs' is int; hybrid search ranks a string column by full text and by its embedding index")
    const nope = await call(c, 'describe_table', { table: 'kb/none' })
    expect(nope.isError).toBe(true)
    expect(nope.content[0]!.text).toContain('kb/none')
    // The query tool holds queries to POST /query's size limits: a 100-deep expression is refused naming the limit.
    let deep: Record<string, unknown> = { col: 'text' }
    for (let i = 0; i < 100; i++) deep = { fn: 'upper', args: [deep] }
    const tooDeep = await call(c, 'query', { query: { table: 'kb/docs', select: { x: deep } } })
    expect(tooDeep.isError).toBe(true)
    expect(tooDeep.content[0]!.text).toContain('select.x: nests deeper than 64 calls (limit)')
    // A limit that is not a row count is refused naming it (a string one was replaced by the cap: every row came back).
    for (const limit of ['5', true, -5, 1.5]) {
      const r = await call(c, 'query', { query: { table: 'kb/docs', limit } })
      expect({ limit, isError: r.isError }).toEqual({ limit, isError: true })
      expect(r.content[0]!.text).toContain('limit')
    }
  })

  test('an argument a retrieval function does not take is refused naming it, not dropped', async () => {
    const c = await client(admin)
    const extra = await call(c, 'mcp_kb_search', { word: 'caves', limit: 1 })
    expect(extra.isError).toBe(true)
    expect(extra.content[0]!.text).toBe("INVALID_ARGUMENT: mcp_kb_search(): unknown argument 'limit'; it takes word")
  })

  test('a retrieval function answers at most 1000 rows, whatever k the client sends', async () => {
    const many = await db.createTable('kb/many', { id: 'int' })
    await many.insert(Array.from({ length: 1005 }, (_, id) => ({ id })))
    retrievalFunction({
      name: 'mcp_first_k', description: 'The first k ids', params: { k: 'int' },
      query: ({ k }) => many.orderBy(many.c.id).limit(k).select({ id: many.c.id }),
    })
    const c = await client(admin)
    const all = json(await call(c, 'mcp_first_k', { k: Number.MAX_SAFE_INTEGER }))
    expect(all).toHaveLength(1000)
    expect(all.at(-1)).toEqual({ id: 999 })
    expect(json(await call(c, 'mcp_first_k', { k: 3 }))).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }])
    // Past 2^53 a JSON number is no exact integer: refused naming the argument, not passed on to limit().
    const huge = await call(c, 'mcp_first_k', { k: 1e20 })
    expect(huge.isError).toBe(true)
    expect(huge.content[0]!.text).toBe("INVALID_ARGUMENT: mcp_first_k(): argument 'k' must be int, got 100000000000000000000")
    await db.dropTable('kb/many')
  })

  test("a retrieval function may not take a built-in tool's name (it went missing from the tool list)", async () => {
    expect(builtinTools(db).map((t) => t.name)).toEqual([...MCP_BUILTIN_TOOLS])
    for (const name of MCP_BUILTIN_TOOLS) {
      const refused = await throwing(() => retrievalFunction({ name, description: 'd', params: {}, query: () => docs.select('id') }))
      expect(refused).toThrow(`retrievalFunction(): '${name}' is the name of a built-in MCP tool`)
    }
    const { tools } = await (await client(admin)).listTools()
    expect(tools.filter((t) => t.name === 'query')).toHaveLength(1)
    expect(tools.find((t) => t.name === 'query')!.description).toStartWith("Run a query in Tessera's JSON form")
  })

  test('scoped like the HTTP API: a tenant sees and writes only its prefix, including through retrieval functions', async () => {
    const c = await client(tenant)
    expect(json(await call(c, 'list_tables', {}))).toEqual(['user_1/notes'])
    const desc = await call(c, 'describe_table', { table: 'kb/docs' })
    expect(desc.isError).toBe(true)
    // What a token may not read answers like a missing table (the tenant boundary): no existence oracle.
    // As over HTTP, the answer names nothing outside the token's scope (tenant.ts), whether the table exists or not.
    expect(desc.content[0]!.text).toBe("TABLE_NOT_FOUND: this request touches objects outside this token's scope")
    expect((await call(c, 'describe_table', { table: 'kb/none' })).content[0]!.text).toBe(desc.content[0]!.text)
    expect((await call(c, 'query', { query: { table: 'kb/docs' } })).isError).toBe(true)
    expect((await call(c, 'similarity_search', { table: 'kb/docs', column: 'text', text: 'lava' })).isError).toBe(true)
    expect((await call(c, 'insert', { table: 'kb/docs', rows: [{ id: 9, text: 'x' }] })).isError).toBe(true)
    const viaFunction = await call(c, 'mcp_kb_search', { word: 'lava' })
    expect(viaFunction.isError).toBe(true)
    // Nor does the refusal name the table the function reads (another tenant's, perhaps).
    expect(viaFunction.content[0]!.text).toContain('no read access to a table retrieval function')
    expect(viaFunction.content[0]!.text).not.toContain('kb/docs')
    // A dir outside the token's scopes lists as a missing one, whether it exists or not.
    const foreignDir = await call(c, 'list_tables', { dir: 'kb' })
    const missingDir = await call(c, 'list_tables', { dir: 'nothere' })
    expect([foreignDir.isError, missingDir.isError]).toEqual([true, true])
    expect(foreignDir.content[0]!.text.replace("'kb'", 'D')).toBe(missingDir.content[0]!.text.replace("'nothere'", 'D'))
    expect(json(await call(c, 'insert', { table: 'user_1/notes', rows: [{ id: 2, note: 'mine' }] })).inserted).toBe(1)
    expect(await docs.count()).toBe(3)
  })

  test('stateless: GET (a server stream) and DELETE (a session) are 405; bad JSON is a JSON-RPC parse error', async () => {
    const headers = { authorization: `Bearer ${admin}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' }
    for (const method of ['GET', 'DELETE']) {
      const r = await app.request('/api/v1/mcp', { method, headers })
      expect(r.status).toBe(405)
      expect(r.headers.get('allow')).toBe('POST')
    }
    const bad = await app.request('/api/v1/mcp', { method: 'POST', headers, body: 'not json' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700)
  })

  test('no token or an unknown token: refused before MCP starts', async () => {
    await expect(await throwing(client())).toThrow(/401|missing API token/)
    await expect(await throwing(client('tsr_unknown'))).toThrow(/401|unknown or revoked/)
  })
})
