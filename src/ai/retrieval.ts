import { toJsonSchema } from '@valibot/to-json-schema'
import { invalid } from '../errors.ts'
import { Expr, toNode, fnNode, functions, typeError } from '../query/index.ts'
import type { ExprLike, Query, FunctionDef } from '../query/index.ts'
import type { ColumnType } from '../types/index.ts'
import { formatType, isAssignable, parseType } from '../types/index.ts'
import { requireCallerQuery } from './caller.ts'
import type { JsonSchema } from './tool-specs.ts'

// Retrieval functions (Pixeltable's @pxt.query): a named, parameterized query over tables, e.g. the top-k chunks most
// similar to a question. Called with expressions it is an expression (select, computed columns, invokeTools), its
// result a JSON list of rows; called with values (.run) it returns the rows; tools() offers it to an LLM and the MCP
// endpoint lists it. The query is built per call from the arguments, so it always reads the tables' current version.

export interface RetrievalOptions<P extends Record<string, string>> {
  /** Registry name, stored in computed columns: keep it stable. Letters, digits and _ (it is also the tool name). */
  readonly name: string
  /** What it returns, for the LLM and the MCP tool list. */
  readonly description: string
  /** Parameters in call order: name → Tessera type ('string', 'int', 'float', 'bool', 'json'). */
  readonly params: P
  /** Builds the query for one call. */
  readonly query: (args: { [K in keyof P]: any }) => Query | Promise<Query>
  /** Describes each parameter to an LLM. */
  readonly paramDescriptions?: Partial<Record<keyof P, string>>
}

export interface RetrievalFunction {
  (...args: ExprLike[]): Expr
  readonly fnName: string
  readonly description: string
  readonly params: readonly { readonly name: string; readonly type: ColumnType; readonly description?: string }[]
  readonly def: FunctionDef
  /** JSON Schema of the arguments object (for tools and MCP). */
  readonly parameters: JsonSchema
  /** The query for these arguments (callers check access to query.spec's tables before running it). */
  build(args: Record<string, unknown>): Promise<Query>
  /** Runs it: the rows as plain objects; maxRows caps them (a caller's bound on what its query's limit allows). */
  run(args: Record<string, unknown>, options?: { readonly maxRows?: number }): Promise<Record<string, unknown>[]>
}

const declared = new Map<string, RetrievalFunction>()

/**
 * The MCP endpoint's own tools (src/server/mcp/tools.ts builds them by these names). A retrieval function of one of
 * these names could not be offered beside them: it went missing from the tool list without a word.
 */
export const MCP_BUILTIN_TOOLS: readonly string[] = ['list_tables', 'describe_table', 'query', 'similarity_search', 'hybrid_search', 'insert']

/** Every retrieval function defined in this process (the MCP endpoint offers them as tools). */
export function retrievalFunctions(): RetrievalFunction[] {
  return [...declared.values()]
}

/** The retrieval function a name calls, when the registry still holds its definition under that name. */
export function retrievalFunctionNamed(name: string): RetrievalFunction | undefined {
  const fn = declared.get(name)
  return fn && functions.has(name) && functions.get(name) === fn.def ? fn : undefined
}

/** The tables a query reads: its source and joins. */
export function tablesRead(q: Query): string[] {
  return [q.spec.from.path, ...q.spec.joins.map((j) => j.source.path)]
}

export function jsonSchemaOfType(type: ColumnType): JsonSchema {
  switch (type.kind) {
    case 'string': return { type: 'string' }
    case 'int': return { type: 'integer' }
    case 'float': return { type: 'number' }
    case 'bool': return { type: 'boolean' }
    case 'timestamp': return { type: 'string', format: 'date-time' }
    case 'date': return { type: 'string', format: 'date' }
    case 'array': return { type: 'array', items: { type: 'number' } }
    case 'image': case 'video': case 'audio': case 'document': return { type: 'string', description: `${type.kind}: a URL or data: URL` }
    default: return {}
  }
}

/**
 * Refuses arguments the function does not take (values from an LLM or an MCP client). Dropped without a word, a
 * misspelled optional one ({ topic, kk: 3 } for k) ran the call with its default and answered as if it had been asked.
 */
export function refuseUnknownArgs(fn: string, names: readonly string[], args: Record<string, unknown>): void {
  const unknown = Object.keys(args).filter((k) => !names.includes(k))
  if (unknown.length) {
    const list = unknown.slice(0, 5).map((k) => `'${k.slice(0, 64)}'`).join(', ')
    throw invalid('INVALID_ARGUMENT', `${fn}(): unknown argument${unknown.length > 1 ? 's' : ''} ${list}${unknown.length > 5 ? ', …' : ''}; it takes ${names.length ? names.join(', ') : 'none'}`)
  }
}

/** Checks an argument value against a parameter type (values from an LLM or an MCP client). */
export function checkValue(fn: string, name: string, type: ColumnType, value: unknown): unknown {
  if (value === undefined || value === null) {
    if (type.nullable) return null
    throw invalid('INVALID_ARGUMENT', `${fn}(): argument '${name}' is required (${formatType(type)})`)
  }
  const ok = type.kind === 'string' ? typeof value === 'string'
    // A safe integer: past 2^53 a JSON number is not the integer it spells (1e20 reached limit() and the store).
    : type.kind === 'int' ? Number.isSafeInteger(value)
    : type.kind === 'float' ? typeof value === 'number' && Number.isFinite(value)
    : type.kind === 'bool' ? typeof value === 'boolean'
    : true
  if (!ok) throw invalid('INVALID_ARGUMENT', `${fn}(): argument '${name}' must be ${formatType(type)}, got ${JSON.stringify(value)?.slice(0, 60)}`)
  return value
}

export function retrievalFunction<P extends Record<string, string>>(options: RetrievalOptions<P>): RetrievalFunction {
  const { name, description } = options
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name ?? '')) throw invalid('INVALID_ARGUMENT', `retrievalFunction(): name must be letters, digits and _ (a tool name), got '${name}'`)
  if (typeof options.query !== 'function') throw invalid('INVALID_ARGUMENT', `retrievalFunction '${name}' needs query, a function`)
  if (MCP_BUILTIN_TOOLS.includes(name)) throw invalid('INVALID_ARGUMENT', `retrievalFunction(): '${name}' is the name of a built-in MCP tool (${MCP_BUILTIN_TOOLS.join(', ')}); choose another name`)
  // Redefining a retrieval function replaces it (a module reloaded, a test per database); any other function of that
  // name (a built-in such as upper or contains, a UDF) would be replaced for every query in the process.
  if (functions.has(name) && declared.get(name)?.def !== functions.get(name)) {
    throw invalid('INVALID_ARGUMENT', `retrievalFunction(): '${name}' is already the name of a function (a built-in or a UDF); choose another name`)
  }
  const params = Object.entries(options.params).map(([p, t]) => ({
    name: p, type: parseType(t), ...(options.paramDescriptions?.[p] ? { description: options.paramDescriptions[p] as string } : {}),
  }))
  const parameters: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, { ...jsonSchemaOfType(p.type), ...(p.description ? { description: p.description } : {}) }])),
    required: params.filter((p) => !p.type.nullable).map((p) => p.name),
    additionalProperties: false,
  }
  const build = async (args: Record<string, unknown>): Promise<Query> => {
    refuseUnknownArgs(name, params.map((p) => p.name), args)
    const checked = Object.fromEntries(params.map((p) => [p.name, checkValue(name, p.name, p.type, args[p.name])]))
    return options.query(checked as { [K in keyof P]: any })
  }
  const run = async (args: Record<string, unknown>, options: { readonly maxRows?: number } = {}) => {
    const q = await build(args)
    // A scoped token reaches only what it may read, whether it calls this over MCP, a route or inside a query.
    requireCallerQuery(q, tablesRead(q), `retrieval function ${name}()`)
    const { maxRows } = options
    return plainRows((await (maxRows === undefined ? q : q.limit(Math.min(q.spec.limit ?? maxRows, maxRows))).collect()).rows)
  }
  const def: FunctionDef = {
    name, kind: 'scalar', minArgs: params.length, maxArgs: params.length, deterministic: false, nullSafe: true,
    returnType: (types, node) => {
      types.forEach((t, i) => {
        const p = params[i]!
        if (p.type.kind !== 'json' && !isAssignable({ ...t, nullable: false }, { ...p.type, nullable: false })) {
          throw typeError(node, `${name}() argument ${i + 1} (${p.name}) must be ${formatType(p.type)}, got ${formatType(t)}`)
        }
      })
      return { kind: 'json', nullable: true }
    },
    evalBatch: async (columns, _node, n) => {
      const out: unknown[] = []
      for (let i = 0; i < n; i++) out.push(await run(Object.fromEntries(params.map((p, j) => [p.name, columns[j]![i]]))))
      return out
    },
  }
  functions.register(def, { replace: true })
  const callable = (...args: ExprLike[]): Expr => new Expr(fnNode(name, args.map(toNode)))
  const fn = Object.assign(callable, { fnName: name, description, params, def, parameters, build, run }) as RetrievalFunction
  declared.set(name, fn)
  return fn
}

/** A valibot object schema as the JSON Schema a tool's parameters take. */
export function jsonSchemaOfValibot(schema: Parameters<typeof toJsonSchema>[0]): JsonSchema {
  const { $schema: _s, ...rest } = toJsonSchema(schema, { errorMode: 'ignore' }) as JsonSchema
  return rest
}

/** Rows as JSON values (vectors as number lists, bytes as base64, times as ISO strings), to store in a json cell. */
export function plainRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return JSON.parse(JSON.stringify(rows, (_k, v) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>)
    return v
  }))
}
