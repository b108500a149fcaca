import { toJsonSchema } from '@valibot/to-json-schema'
import * as v from 'valibot'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { plainRows, retrievalFunctions } from '../../ai/index.ts'
import type { RetrievalFunction } from '../../ai/index.ts'
import {
  DescribeTableToolSchema, HybridSearchToolSchema, InsertToolSchema, ListTablesToolSchema, MCP_MAX_ROWS as MAX_ROWS, queryFromJson, QueryToolSchema,
  SimilaritySearchToolSchema,
} from '../../api/index.ts'
import { canAccess } from '../auth.ts'
import { checkQueryLimits, DEFAULT_LIMITS, refuseNonFiniteNumbers, tooLarge } from '../request.ts'
import type { RequestLimits } from '../request.ts'
import { requestWorkBound } from '../routes/query.ts'
import { withWorkBound } from '../../query/index.ts'
import { assertCanList, assertCanTouch } from '../tenant.ts'
import type { Principal } from '../auth.ts'

// The tools the MCP endpoint offers: the catalog (list, describe), queries in the HTTP API's JSON form, similarity and
// hybrid search, insert, and the retrieval functions the application defined. Every tool checks the caller's token
// exactly as the HTTP routes do; inputs are validated with bounds (the API contract's tool schemas, src/api/mcp-tools.ts)
// before they reach the engine.

export interface McpTool {
  readonly name: string
  readonly description: string
  readonly inputSchema: Record<string, unknown>
  /** The tool writes (insert); every other tool only reads, and runs as read-only work (src/media/access.ts). */
  readonly writes?: boolean
  run(args: unknown, principal: Principal): Promise<unknown>
}

function schemaOf(s: v.GenericSchema): Record<string, unknown> {
  const { $schema: _s, ...rest } = toJsonSchema(s, { errorMode: 'ignore' }) as Record<string, unknown>
  return rest
}

function tool<S extends v.GenericSchema>(name: string, description: string, schema: S, run: (args: v.InferOutput<S>, p: Principal) => Promise<unknown>, options: { writes?: boolean } = {}): McpTool {
  return {
    name, description, inputSchema: schemaOf(schema), ...(options.writes ? { writes: true } : {}),
    run: (args, p) => {
      const parsed = v.safeParse(schema, args ?? {})
      if (!parsed.success) {
        const issue = parsed.issues[0]
        const path = issue.path?.map((x) => String(x.key)).join('.')
        throw new TypeError(`${name}: ${path ? `${path}: ` : ''}${issue.message}`)
      }
      return run(parsed.output, p)
    },
  }
}

/** A table's columns that are worth showing an LLM (vectors are long and meaningless to it). */
const readableColumns = (schema: Record<string, string>) => Object.entries(schema).filter(([, t]) => !t.startsWith('array')).map(([n]) => n)

/** The server's limits the tools apply (the query tool's work bound: src/query/work-bound.ts); default DEFAULT_LIMITS. */
export interface ToolOptions {
  readonly limits?: RequestLimits
}

export function builtinTools(db: Tessera, options: ToolOptions = {}): McpTool[] {
  const bound = requestWorkBound(options.limits ?? DEFAULT_LIMITS)
  const table = async (path: string, p: Principal, access: 'read' | 'write') => {
    assertCanTouch(p, parsePath(path, { allowVersion: access === 'read' }).path, access)
    return db.getTable(path)
  }
  return [
    tool('list_tables', 'List the tables (and views) the token may read, optionally under a directory.',
      ListTablesToolSchema,
      async ({ dir }, p) => {
        // As GET /tables?dir=: a dir outside the token's scopes answers as a missing one, whether it exists or not.
        if (dir !== undefined) assertCanList(p, parsePath(dir, { allowRoot: true }).path)
        return (await db.listTables(dir, { recursive: true })).filter((t) => canAccess(p, t, 'read'))
      }),
    tool('describe_table', 'Columns with their types (computed columns with their expressions), embedding indexes and the row count of a table.',
      DescribeTableToolSchema,
      async ({ table: path }, p) => {
        const t = await table(path, p, 'read')
        return {
          table: path, rows: await t.count(),
          columns: t.columns().map((c) => ({ name: c.name, type: c.type, ...(c.computedWith ? { computedWith: c.computedWith } : {}) })),
          indexes: t.listIndexes().map((i) => ({ name: i.name, column: i.column, metric: i.metric, ...(i.fullText ? { fullText: i.fullText } : {}) })),
        }
      }),
    tool('query', `Run a query in Tessera's JSON form: {table, select?, where?, orderBy?, limit?, ...}; expressions are {"col": name}, {"lit": value}, {"fn": name, "args": [...]}. At most ${MAX_ROWS} rows.`,
      QueryToolSchema,
      async ({ query }, p) => {
        // The same size limits as POST /query (expression depth, width and nodes; select items), before anything walks it.
        checkQueryLimits(query)
        const tables = [query.table, ...(Array.isArray(query.joins) ? query.joins.map((j: { table?: unknown }) => j?.table) : [])]
        for (const t of tables) if (typeof t === 'string') assertCanTouch(p, parsePath(t, { allowVersion: true }).path, 'read')
        // A limit that is not a number goes to the query reader as it is, which refuses it naming 'limit' (replaced by
        // the cap, "5" returned every row up to it).
        const limit = query.limit === undefined ? MAX_ROWS : typeof query.limit === 'number' ? Math.min(query.limit, MAX_ROWS) : query.limit
        // Bounded as POST /query is: a query with joins estimated beyond the server's bound is refused before it runs.
        const q = withWorkBound(await queryFromJson(db, { ...query, limit }), bound)
        return plainRows((await q.collect()).rows)
      }),
    tool('similarity_search', 'The k rows whose column (it needs an embedding index) is most similar to a text, with their scores.',
      SimilaritySearchToolSchema,
      async ({ table: path, column, text, k }, p) => {
        const t = await table(path, p, 'read')
        const sim = t.col(column).similarity(text)
        const select = Object.fromEntries([...readableColumns(t.schema()).map((n) => [n, t.col(n)]), ['score', sim]])
        return plainRows((await t.orderBy(sim, 'desc').limit(k).select(select).collect()).rows)
      }),
    tool('hybrid_search', 'Full-text and vector search over a text column with an embedding index, fused by reciprocal rank.',
      HybridSearchToolSchema,
      async ({ table: path, column, text, k }, p) => {
        const t = await table(path, p, 'read')
        const rows = plainRows((await t.hybridSearch(text, { column, k })).rows)
        const hidden = new Set(Object.entries(t.schema()).filter(([, ty]) => ty.startsWith('array')).map(([n]) => n))
        return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([n]) => !hidden.has(n))))
      }),
    tool('insert', 'Insert rows (a list of objects, column → value) into a table; computed columns are computed. Returns the counts.',
      InsertToolSchema,
      async ({ table: path, rows, onError }, p) => {
        const t = await table(path, p, 'write')
        // The server's --max-insert-rows holds here as on POST …/-/rows (the schema's own cap is 1,000 rows).
        const max = (options.limits ?? DEFAULT_LIMITS).maxInsertRows
        if (rows.length > max) throw tooLarge(`${rows.length} rows in one insert, more than ${max} (the server's limit): insert them in smaller calls`, { limit: max })
        refuseNonFiniteNumbers(rows)
        const st = await t.insert(rows, { onError })
        return { inserted: st.numInserted, version: st.version, errors: st.numExcs, columnsWithErrors: st.colsWithExcs }
      }, { writes: true }),
  ]
}

/**
 * A retrieval function as an MCP tool: its own name, description and argument schema. At most MAX_ROWS rows, as the
 * query tool answers: the client picks the arguments, and a k the function passes to limit() is any integer.
 */
export function retrievalTool(fn: RetrievalFunction): McpTool {
  return { name: fn.fnName, description: fn.description, inputSchema: fn.parameters, run: (args) => fn.run((args ?? {}) as Record<string, unknown>, { maxRows: MAX_ROWS }) }
}

export function allTools(db: Tessera, functions: readonly RetrievalFunction[] = retrievalFunctions(), options: ToolOptions = {}): McpTool[] {
  const builtins = builtinTools(db, options)
  const names = new Set(builtins.map((t) => t.name))
  return [...builtins, ...functions.filter((f) => !names.has(f.fnName)).map(retrievalTool)]
}
