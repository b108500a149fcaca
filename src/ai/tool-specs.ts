// A tool as Tessera stores it in an expression's options: what the LLM is told (name, description, JSON schema of the
// arguments) and what invokeTools calls (a registered function and the order of its arguments). Plain JSON, so a
// computed column that offers tools survives a reopen like any other expression. Each provider module turns the list
// into its own wire shape.

export type JsonSchema = Record<string, unknown>

export interface ToolSpec {
  readonly name: string
  readonly description: string
  /** JSON Schema of the arguments object. */
  readonly parameters: JsonSchema
  /** The registered function invokeTools calls. */
  readonly fn: string
  /** Argument names in the function's parameter order. */
  readonly args: readonly string[]
}

export function isToolSpec(x: unknown): x is ToolSpec {
  return !!x && typeof x === 'object' && typeof (x as ToolSpec).fn === 'string' && Array.isArray((x as ToolSpec).args) && typeof (x as ToolSpec).name === 'string'
}

/** opts.tools as given: Tessera tool specs are converted, anything else (provider-native tools) passes through. */
export function convertTools(tools: unknown, convert: (t: ToolSpec) => unknown): unknown[] | undefined {
  if (tools === undefined || tools === null) return undefined
  if (!Array.isArray(tools)) throw new TypeError('opts.tools must be a list (from tools([...]))')
  return tools.map((t) => (isToolSpec(t) ? convert(t) : t))
}

export const openAIChatTool = (t: ToolSpec) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })
export const openAIResponsesTool = (t: ToolSpec) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters })
export const anthropicTool = (t: ToolSpec) => ({ name: t.name, description: t.description, input_schema: t.parameters })

/** Gemini takes an OpenAPI-style subset of JSON Schema: no $schema, additionalProperties or $ref. */
export const geminiDeclaration = (t: ToolSpec) => ({ name: t.name, description: t.description, parameters: geminiSchema(t.parameters) })

function geminiSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(geminiSchema)
  if (!s || typeof s !== 'object') return s
  return Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema' && k !== 'additionalProperties').map(([k, v]) => [k, geminiSchema(v)]))
}
