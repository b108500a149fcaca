import { invalid } from '../errors.ts'
import { call, fnNode, litNode, functions, RowFailure, scalar, t } from '../query/index.ts'
import type { Expr, ExprLike, FnNode } from '../query/index.ts'
import { parseType } from '../types/index.ts'
import type { ColumnType } from '../types/index.ts'
import { checkValue, jsonSchemaOfType, jsonSchemaOfValibot, refuseUnknownArgs, retrievalFunctionNamed } from './retrieval.ts'
import type { RetrievalFunction } from './retrieval.ts'
import { checkArgSchema } from './arg-schema.ts'
import { isToolSpec } from './tool-specs.ts'
import type { JsonSchema, ToolSpec } from './tool-specs.ts'

// Tools for LLMs: tools([...]) describes UDFs and retrieval functions to a provider (name, description, JSON schema of
// the arguments); invokeTools(tools, response) is an expression that runs the calls an LLM's response asked for;
// toolMessages(prompt, response, results) builds the follow-up conversation for the final answer. Together they make
// the agent pattern as computed columns: prompt → LLM with tools → tool results → final answer.

/** A UDF (from udf()) as tools() takes it: the function plus what the LLM should know about it. */
export interface UdfTool {
  readonly udf: { readonly fnName: string }
  /** Tool name (default: the UDF's name, dots as '__'). */
  readonly name?: string
  readonly description: string
  /**
   * The arguments in the UDF's parameter order: a valibot object schema (v.object({ city: v.string() })), or
   * name → Tessera type ({ city: 'string', days: 'int' }).
   */
  readonly params: Record<string, string> | { readonly type: 'object'; readonly entries: Record<string, unknown> }
}

type ToolSource = RetrievalFunction | UdfTool

const toolName = (n: string) => n.replaceAll('.', '__')

function specOf(source: ToolSource): ToolSpec {
  if (typeof source === 'function') {
    const r = source as RetrievalFunction
    return { name: toolName(r.fnName), description: r.description, parameters: r.parameters, fn: r.fnName, args: r.params.map((p) => p.name) }
  }
  const u = source as UdfTool
  if (!u?.udf?.fnName) throw invalid('INVALID_ARGUMENT', 'tools(): each tool is a retrieval function or { udf, description, params }')
  const name = u.name ?? toolName(u.udf.fnName)
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw invalid('INVALID_ARGUMENT', `tools(): tool name '${name}' must be 1-64 letters, digits, _ or -`)
  if (!functions.has(u.udf.fnName)) throw invalid('INVALID_ARGUMENT', `tools(): unknown function '${u.udf.fnName}'`)
  const params = u.params as Record<string, unknown>
  if (!params || typeof params !== 'object') throw invalid('INVALID_ARGUMENT', `tools(): tool '${name}' needs params (a valibot object schema or { argName: 'type' }, in the UDF's argument order)`)
  let parameters: JsonSchema
  let args: string[]
  if (params && (params as { type?: unknown }).type === 'object' && typeof (params as { entries?: unknown }).entries === 'object') {
    parameters = jsonSchemaOfValibot(params as never)
    args = Object.keys((params as { entries: Record<string, unknown> }).entries)
  } else {
    const types = Object.entries(params as Record<string, string>).map(([k, v]) => [k, parseType(v)] as const)
    parameters = {
      type: 'object',
      properties: Object.fromEntries(types.map(([k, ty]) => [k, jsonSchemaOfType(ty)])),
      required: types.filter(([, ty]) => !ty.nullable).map(([k]) => k),
      additionalProperties: false,
    }
    args = types.map(([k]) => k)
  }
  return { name, description: u.description, parameters, fn: u.udf.fnName, args }
}

/** The tool list to pass as opts.tools to any provider's chat function and to invokeTools. */
export function tools(sources: readonly ToolSource[]): ToolSpec[] {
  const specs = sources.map(specOf)
  const seen = new Set<string>()
  for (const s of specs) {
    if (seen.has(s.name)) throw invalid('INVALID_ARGUMENT', `tools(): two tools are named '${s.name}'`)
    seen.add(s.name)
  }
  return specs
}

/** One tool call an LLM asked for, in the provider-neutral form. */
export interface ToolCall {
  readonly id: string
  readonly name: string
  readonly args: Record<string, unknown>
}

/** Arguments as the LLM sent them: an object, or a JSON string of one (a malformed one becomes the call's error). */
const parseArgs = (s: unknown): Record<string, unknown> => {
  if (s && typeof s === 'object') return s as Record<string, unknown>
  if (typeof s !== 'string' || s.trim() === '') return {}
  try {
    const parsed = JSON.parse(s)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed
  } catch { /* reported below */ }
  return { [BAD_ARGS]: s }
}
const BAD_ARGS = '$unparsed'

type Json = Record<string, any>
export type ResponseFormat = 'openai-chat' | 'openai-responses' | 'anthropic' | 'gemini'

/** Which provider's response this is (each one carries tool calls differently). */
export function responseFormat(r: unknown): ResponseFormat | undefined {
  if (!r || typeof r !== 'object') return undefined
  const x = r as Json
  if (Array.isArray(x.choices)) return 'openai-chat'
  if (Array.isArray(x.output)) return 'openai-responses'
  // A Gemini prompt blocked outright has no candidates, only promptFeedback.blockReason.
  if (Array.isArray(x.candidates) || (x.candidates === undefined && x.promptFeedback && typeof x.promptFeedback === 'object')) return 'gemini'
  if (Array.isArray(x.content)) return 'anthropic'
  return undefined
}

const describe = (x: unknown): string => `${Array.isArray(x) ? 'a list' : x === null ? 'null' : typeof x === 'object' ? 'an object' : `a ${typeof x}`} ${JSON.stringify(x)?.slice(0, 80)}`

/**
 * The list of objects at `path` of a response (absent: none). Compatible servers do not always keep to the wire
 * format (tool_calls as an object keyed by index...); such a response is refused by name, not read half-way.
 */
function objectsAt(value: unknown, path: string): Json[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new TypeError(`the response's ${path} is not a list: got ${describe(value)}`)
  const bad = value.findIndex((x) => !x || typeof x !== 'object' || Array.isArray(x))
  if (bad >= 0) throw new TypeError(`the response's ${path}[${bad}] is not an object: got ${describe(value[bad])}`)
  return value
}

/** The tool calls in a chat completion, Responses object, Anthropic message or Gemini response. */
export function toolCallsOf(response: unknown): ToolCall[] {
  const r = response as Json
  switch (responseFormat(r)) {
    case 'openai-chat':
      return objectsAt(r.choices[0]?.message?.tool_calls, 'choices[0].message.tool_calls').map((c: Json) => ({ id: String(c.id), name: String(c.function?.name), args: parseArgs(c.function?.arguments) }))
    case 'openai-responses':
      return objectsAt(r.output, 'output').filter((o: Json) => o.type === 'function_call').map((o: Json) => ({ id: String(o.call_id), name: String(o.name), args: parseArgs(o.arguments) }))
    case 'anthropic':
      return objectsAt(r.content, 'content').filter((b: Json) => b.type === 'tool_use').map((b: Json) => ({ id: String(b.id), name: String(b.name), args: parseArgs(b.input) }))
    case 'gemini':
      return objectsAt(r.candidates?.[0]?.content?.parts, 'candidates[0].content.parts').filter((p: Json) => p.functionCall && typeof p.functionCall === 'object').map((p: Json, i: number) => ({ id: String(p.functionCall.id ?? `${p.functionCall.name}_${i}`), name: String(p.functionCall.name), args: parseArgs(p.functionCall.args) }))
    default:
      return []
  }
}

/** One executed call: the result, or the error message (so the LLM can see what went wrong). */
export interface ToolResult {
  readonly id: string
  readonly name: string
  readonly args: Record<string, unknown>
  readonly result?: unknown
  readonly error?: string
}

function specsOf(node: FnNode): ToolSpec[] {
  const specs = node.opts?.tools
  if (!Array.isArray(specs) || !specs.every(isToolSpec)) throw invalid('INVALID_EXPRESSION', `${node.fn}() needs opts.tools from tools([...])`)
  return specs
}

/** The declared type of each of a function's parameters, when it declares them (retrieval functions do). */
function paramTypes(spec: ToolSpec): (ColumnType | undefined)[] {
  const props = (spec.parameters.properties ?? {}) as Record<string, { type?: string }>
  const required = new Set((spec.parameters.required ?? []) as string[])
  const kinds: Record<string, string> = { string: 'string', integer: 'int', number: 'float', boolean: 'bool' }
  return spec.args.map((a) => {
    const k = kinds[props[a]?.type ?? '']
    return k ? parseType(required.has(a) ? k : `${k}?`) : undefined
  })
}

/** Most rows a retrieval function called as a tool answers (as its MCP tool does: src/api/mcp-tools.ts). */
export const TOOL_MAX_ROWS = 1000

/** Runs one tool call through the function registry, as a one-row batch. */
export async function runTool(spec: ToolSpec, callArgs: Record<string, unknown>): Promise<unknown> {
  // The function is called with spec.args in order: any other argument would be lost, so the LLM is told instead.
  refuseUnknownArgs(spec.name, spec.args, callArgs)
  const types = paramTypes(spec)
  const values = spec.args.map((a, i) => (types[i] ? checkValue(spec.name, a, types[i]!, callArgs[a]) : callArgs[a] ?? null))
  // Then the rest of what the schema the LLM was shown says (a picklist, bounds, lengths): an argument left out is
  // null, which checkValue has judged.
  const props = (spec.parameters.properties ?? {}) as Record<string, JsonSchema>
  spec.args.forEach((a, i) => {
    if (values[i] !== null) checkArgSchema(spec.name, a, props[a], values[i])
  })
  // A retrieval function answers at most TOOL_MAX_ROWS rows: the LLM picks its arguments (k = 10^9 brought the whole
  // table into the cell and the next prompt), as an MCP client does, whose tool has the same cap.
  const retrieval = retrievalFunctionNamed(spec.fn)
  if (retrieval) return retrieval.run(Object.fromEntries(spec.args.map((a, i) => [a, values[i]])), { maxRows: TOOL_MAX_ROWS })
  const def = functions.get(spec.fn)
  const node = fnNode(spec.fn, values.map((v) => litNode(v)))
  if (!def.nullSafe && values.some((v) => v === null)) return null
  if (def.evalBatch) {
    // UDFs and provider functions report a row's failure as a RowFailure value, not by throwing (so a batch keeps its
    // other rows): for a tool that is the call's error, which the LLM gets to see.
    const [result] = await def.evalBatch(values.map((v) => [v]), node, 1)
    if (result instanceof RowFailure) throw result.error instanceof Error ? result.error : new Error(String(result.error))
    return result
  }
  if (def.eval) return def.eval(values, node)
  throw new Error(`function ${spec.fn} cannot be called as a tool`)
}

scalar({
  name: 'ai.invoke_tools', minArgs: 1, maxArgs: 1, deterministic: false,
  returnType: (_types, node) => (specsOf(node), t('json', true)),
  evalBatch: async ([responses], node) => {
    const specs = new Map(specsOf(node).map((s) => [s.name, s]))
    // Rows run at once, and a row's tools may have side effects (send an email): a row that fails is that row's
    // failure alone (a RowFailure, as providers report theirs), never a thrown error, which would fail the batch after
    // the other rows' tools ran and have them run again when the batch is retried row by row.
    return Promise.all(responses!.map(async (response) => {
      try {
        return await invokeRow(specs, response)
      } catch (e) {
        return new RowFailure(e)
      }
    }))
  },
})

/** Runs one response's tool calls in order; a call that fails is reported in its result, not thrown. */
async function invokeRow(specs: ReadonlyMap<string, ToolSpec>, response: unknown): Promise<ToolResult[]> {
  let calls: ToolCall[]
  try {
    calls = toolCallsOf(response)
  } catch (e) {
    throw new TypeError(`invokeTools(): cannot read the tool calls: ${(e as Error).message ?? e}`, { cause: e })
  }
  const results: ToolResult[] = []
  for (const c of calls) {
    const spec = specs.get(c.name)
    try {
      if (!spec) throw new Error(`no tool named '${c.name}' (tools: ${[...specs.keys()].join(', ')})`)
      if (BAD_ARGS in c.args) throw new Error(`the arguments are not a JSON object: ${String(c.args[BAD_ARGS]).slice(0, 200)}`)
      results.push({ ...c, result: await runTool(spec, c.args) })
    } catch (e) {
      results.push({ ...c, error: (e as Error)?.message ?? String(e) })
    }
  }
  return results
}

const asText = (r: ToolResult): string => JSON.stringify(r.error !== undefined ? { error: r.error } : r.result ?? null)

/**
 * The model's turn a follow-up continues. A response without one (no choice, a Gemini candidate blocked for safety,
 * a blocked prompt) is refused saying so: left out, the next call got a null message and said its prompt was malformed.
 */
function modelTurn(r: Json, format: 'openai-chat' | 'gemini'): Json {
  const turn = format === 'openai-chat' ? r.choices[0]?.message : r.candidates?.[0]?.content
  if (turn && typeof turn === 'object' && !Array.isArray(turn)) return turn
  if (format === 'openai-chat') {
    const finish = r.choices[0]?.finish_reason
    throw new TypeError(`toolMessages(): the chat completion has no choices[0].message to continue (${r.choices.length ? `finish_reason ${JSON.stringify(finish ?? null)}` : 'choices is empty'})`)
  }
  const block = r.promptFeedback?.blockReason
  const why = block ? `the prompt was blocked: ${block}` : r.candidates?.length ? `finishReason ${JSON.stringify(r.candidates[0]?.finishReason ?? null)}` : 'no candidates'
  throw new TypeError(`toolMessages(): the Gemini response has no candidates[0].content to continue (${why})`)
}

/** The conversation that lets the LLM answer from the tool results, in the format of the response it continues. */
export function followUp(prompt: unknown, response: unknown, results: readonly ToolResult[]): unknown[] {
  const history = typeof prompt === 'string' ? undefined : (prompt as unknown[])
  const r = response as Json
  switch (responseFormat(r)) {
    case 'openai-chat':
      return [...(history ?? [{ role: 'user', content: prompt }]), modelTurn(r, 'openai-chat'), ...results.map((x) => ({ role: 'tool', tool_call_id: x.id, content: asText(x) }))]
    case 'openai-responses':
      return [...(history ?? [{ role: 'user', content: prompt }]), ...r.output, ...results.map((x) => ({ type: 'function_call_output', call_id: x.id, output: asText(x) }))]
    case 'anthropic':
      return [...(history ?? [{ role: 'user', content: prompt }]), { role: 'assistant', content: r.content },
        ...(results.length ? [{ role: 'user', content: results.map((x) => ({ type: 'tool_result', tool_use_id: x.id, content: asText(x), ...(x.error !== undefined ? { is_error: true } : {}) })) }] : [])]
    case 'gemini': {
      const turn = modelTurn(r, 'gemini')
      // A functionCall that carries an id (Gemini 2.5 and later) is answered under that id, which pairs two calls of
      // one function in a turn; calls without one are paired by order (their ids here are made up: name_index).
      const sent = new Set((Array.isArray(turn.parts) ? turn.parts : []).map((p: Json) => p?.functionCall?.id).filter((id: unknown) => typeof id === 'string'))
      return [...(history ?? [{ role: 'user', parts: [{ text: prompt }] }]), turn,
        ...(results.length ? [{ role: 'user', parts: results.map((x) => ({ functionResponse: { ...(sent.has(x.id) ? { id: x.id } : {}), name: x.name, response: x.error !== undefined ? { error: x.error } : { result: x.result ?? null } } })) }] : [])]
    }
    default:
      throw new TypeError(`toolMessages(): not a chat completion, Responses, Anthropic or Gemini response: ${JSON.stringify(response)?.slice(0, 80)}`)
  }
}

scalar({
  name: 'ai.tool_messages', minArgs: 3, maxArgs: 3,
  returnType: () => t('json', true),
  eval: ([prompt, response, results]) => followUp(prompt, response, (results ?? []) as ToolResult[]),
})

/** Runs the tool calls in `response` (an LLM's JSON result): a JSON list of {id, name, args, result | error}. */
export function invokeTools(toolList: readonly ToolSpec[], response: ExprLike): Expr {
  return call('ai.invoke_tools', [response], { tools: toolList })
}

/** prompt (or messages) + the LLM's response + invokeTools' results → the messages for the final LLM call. */
export function toolMessages(prompt: ExprLike, response: ExprLike, results: ExprLike): Expr {
  return call('ai.tool_messages', [prompt, response, results])
}
