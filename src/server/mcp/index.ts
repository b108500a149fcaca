// Public surface of src/mcp: the MCP endpoint (Streamable HTTP) over a Tessera, and its tools.
export { mcpDocs, mcpRoutes } from './server.ts'
export type { McpOptions } from './server.ts'
export { allTools, builtinTools, retrievalTool } from './tools.ts'
export type { McpTool, ToolOptions } from './tools.ts'
