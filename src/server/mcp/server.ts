import { Hono } from 'hono'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import type { Tessera } from '../../catalog/index.ts'
import { withCaller } from '../../ai/index.ts'
import type { RetrievalFunction } from '../../ai/index.ts'
import { callerOf } from '../routes/declared.ts'
import type { AuthEnv, Principal } from '../auth.ts'
import { jsonReplacer } from '../json.ts'
import { redactForeignNames } from '../tenant.ts'
import { TesseraError } from '../../errors.ts'
import { asReadOnlyWork } from '../../media/index.ts'
import { allTools } from './tools.ts'
import type { McpTool } from './tools.ts'

// The MCP endpoint (Streamable HTTP, the official SDK's web-standard transport) at /api/v1/mcp: mounted under the API's
// auth, so an MCP client sends the same bearer token and reaches the same tables. Stateless: each POST gets a fresh
// server and transport (no session to keep, nothing held between requests), answered as plain JSON.

export const mcpDocs = [
  { method: 'post' as const, path: '/api/v1/mcp', tag: 'mcp', summary: 'MCP endpoint (Streamable HTTP, JSON-RPC 2.0): tools to list, describe, query, search and insert into tables, and the retrieval functions' },
]

export interface McpOptions {
  /** Retrieval functions offered as tools (default: every one this process defined). */
  readonly functions?: readonly RetrievalFunction[]
  readonly version?: string
}

function mcpServer(db: Tessera, tools: readonly McpTool[], principal: Principal, version: string): Server {
  const server = new Server({ name: 'tessera', version }, { capabilities: { tools: {} } })
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema as { type: 'object' } })),
  }))
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const tool = tools.find((t) => t.name === req.params.name)
    if (!tool) return { isError: true, content: [{ type: 'text' as const, text: `no tool named '${req.params.name}'` }] }
    try {
      // Retrieval functions check the tables they read against the caller, as inside the HTTP API.
      // A read (every tool but insert) derives images into the bounded cache, never the media store, as POST /query
      // does: all tools share one path, so app.ts cannot tell a read by it.
      const run = () => tool.run(req.params.arguments, principal)
      const result = await withCaller(callerOf(principal, db), () => (tool.writes ? run() : asReadOnlyWork(run)))
      const text = JSON.stringify(result, jsonReplacer)
      return {
        content: [{ type: 'text' as const, text }],
        ...(result && typeof result === 'object' ? { structuredContent: Array.isArray(result) ? { rows: JSON.parse(text) } : JSON.parse(text) } : {}),
      }
    } catch (e) {
      // A tool failure is a result the agent can read and act on, not a protocol error; like an HTTP error it never
      // names another tenant's objects (tenant.ts).
      const err = e instanceof TesseraError ? redactForeignNames(principal, e) : e
      const code = (err as { code?: string }).code
      return { isError: true, content: [{ type: 'text' as const, text: `${code ? `${code}: ` : ''}${(err as Error).message ?? String(err)}` }] }
    }
  })
  return server
}

export function mcpRoutes(db: Tessera, options: McpOptions = {}) {
  const app = new Hono<AuthEnv>()
  // Stateless: no server-initiated stream (GET) and no session to end (DELETE); clients take 405 as "not offered".
  const notOffered = () => Response.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this endpoint is stateless; send requests with POST' }, id: null }, { status: 405, headers: { allow: 'POST' } })
  app.get('/mcp', notOffered)
  app.delete('/mcp', notOffered)
  app.post('/mcp', async (c) => {
    const tools = allTools(db, options.functions, { limits: c.var.limits })
    const server = mcpServer(db, tools, c.var.principal, options.version ?? 'dev')
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await server.connect(transport)
    try {
      return await transport.handleRequest(c.req.raw)
    } finally {
      await server.close()
    }
  })
  return app
}
