import { afterAll, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// The MCP insert tool took up to 1,000 rows (its schema's cap) whatever the server's --max-insert-rows said, which
// POST …/-/rows holds to: a server limited to 2 rows a request took 3 through MCP.

let db: Tessera | undefined
let client: Client | undefined
afterAll(async () => {
  await client?.close()
  await db?.close()
})

test("the insert tool holds to the server's --max-insert-rows", async () => {
  db = await memoryDb()
  await db.createTable('notes', { id: 'int' })
  const tokens = new TokenStore(db.driver)
  const admin = await tokens.create('root', { admin: true })
  const app = createApp(db, { authenticate: tokens.authenticate, tokens, limits: { maxInsertRows: 2 } })
  client = new Client({ name: 'test-agent', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL('http://tessera.test/api/v1/mcp'), {
    fetch: async (url, init) => app.fetch(new Request(url, init)),
    requestInit: { headers: { authorization: `Bearer ${admin}` } },
  }))
  type Result = { isError?: boolean; content: { text: string }[] }
  const three = (await client.callTool({ name: 'insert', arguments: { table: 'notes', rows: [{ id: 1 }, { id: 2 }, { id: 3 }] } })) as Result
  expect(three.isError).toBe(true)
  expect(three.content[0]!.text).toContain("3 rows in one insert, more than 2 (the server's limit)")
  expect(await (await db.getTable('notes')).count()).toBe(0)
  const two = (await client.callTool({ name: 'insert', arguments: { table: 'notes', rows: [{ id: 1 }, { id: 2 }] } })) as Result
  expect(two.isError).toBeFalsy()
  expect(await (await db.getTable('notes')).count()).toBe(2)
})
