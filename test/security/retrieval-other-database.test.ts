import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Tessera } from '../../src/index.ts'
import { retrievalFunction } from '../../src/ai/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// Functions are process-wide. With two databases in one process, a retrieval function defined over database B's
// tables ran for a token of server A: A's scope check compares table paths only, so A's token scoped to user_1 read
// B's user_1/secret (POST /query, the MCP tool). Its query reads another database than the server serves: refused.

let a: Tessera
let b: Tessera
let app: ReturnType<typeof createApp>
let tenant: string
beforeAll(async () => {
  a = await memoryDb()
  b = await memoryDb()
  for (const db of [a, b]) await db.createDir('user_1')
  await (await a.createTable('user_1/notes', { id: 'int', note: 'string' })).insert([{ id: 1, note: 'mine' }])
  const secret = await b.createTable('user_1/secret', { id: 'int', note: 'string' })
  await secret.insert([{ id: 1, note: 'the other database' }])
  const notes = await a.getTable('user_1/notes')
  retrievalFunction({ name: 'other_db_secret', description: 'rows of the other database', params: {}, query: () => secret.select({ note: secret.c.note }) })
  retrievalFunction({ name: 'own_db_notes', description: 'rows of this database', params: {}, query: () => notes.select({ note: notes.c.note }) })
  const tokens = new TokenStore(a.driver)
  tenant = await tokens.create('tenant1', { scopes: [{ prefix: 'user_1', access: 'read' }] })
  app = createApp(a, { authenticate: tokens.authenticate, tokens })
}, 120_000)
afterAll(async () => {
  await a.close()
  await b.close()
})

const query = (fn: string) => app.request('/api/v1/query', {
  method: 'POST', headers: { authorization: `Bearer ${tenant}`, 'content-type': 'application/json' },
  body: JSON.stringify({ table: 'user_1/notes', select: { r: { fn, args: [] } } }),
})

test("POST /query: a retrieval function over another database's table is refused; one over this database answers", async () => {
  const own = await query('own_db_notes')
  expect(own.status).toBe(200)
  expect(((await own.json()) as { rows: unknown[] }).rows).toEqual([{ r: [{ note: 'mine' }] }])
  const other = await query('other_db_secret')
  const text = await other.text()
  expect(text).not.toContain('the other database')
  expect(other.status).toBe(403)
  expect(text).toContain('retrieval function other_db_secret() reads a database other than the one this server serves')
})

test('MCP: the tool of a retrieval function over another database answers an error, not its rows', async () => {
  const transport = new StreamableHTTPClientTransport(new URL('http://tessera.test/api/v1/mcp'), {
    fetch: async (url, init) => app.fetch(new Request(url, init)),
    requestInit: { headers: { authorization: `Bearer ${tenant}` } },
  })
  const client = new Client({ name: 'test-agent', version: '1.0.0' })
  await client.connect(transport)
  try {
    const r = (await client.callTool({ name: 'other_db_secret', arguments: {} })) as { isError?: boolean; content: { text: string }[] }
    expect(r.isError).toBe(true)
    expect(r.content[0]!.text).toContain('reads a database other than the one this server serves')
    expect(r.content[0]!.text).not.toContain('the other database')
    const own = (await client.callTool({ name: 'own_db_notes', arguments: {} })) as { isError?: boolean; content: { text: string }[] }
    expect(own.isError).toBeFalsy()
    expect(own.content[0]!.text).toContain('mine')
  } finally {
    await client.close()
  }
})

test('in process (no server, no caller) a retrieval function reads whichever database its query names', async () => {
  const notes = await a.getTable('user_1/notes')
  const rows = (await notes.select({ r: { fn: 'other_db_secret', args: [] } as never }).collect()).rows
  expect(rows).toEqual([{ r: [{ note: 'the other database' }] }])
})
