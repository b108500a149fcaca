import { invalid } from '../errors.ts'
import type { JsonSchema } from './tool-specs.ts'

// A tool argument checked against the JSON schema its tool declares, before the function runs. The schema is what
// tools() stored (from a valibot schema or from Tessera types) and what the LLM was shown: a value outside it (a
// picklist's other word, a day count past maxValue, a city longer than maxLength) is the LLM's mistake to be told
// about, not a value for the function. The keywords checked are those @valibot/to-json-schema and the type mapping
// write, but for `pattern`: a tool spec is plain JSON that a scoped token can write into a query's opts, and a
// pattern such as ^(a+)+$ would hold the event loop for as long as backtracking takes. Others are left to the function.

const describe = (x: unknown): string => JSON.stringify(x)?.slice(0, 60) ?? String(x)

const typeOf = (x: unknown): string =>
  x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x

function hasType(value: unknown, type: string): boolean {
  const actual = typeOf(value)
  return actual === type || (type === 'number' && actual === 'integer')
}

/** Why `value` does not match `schema` (at `path`, e.g. "days" or "tags[1]"), or undefined when it does. */
export function schemaMismatch(schema: JsonSchema | undefined, value: unknown, path: string): string | undefined {
  if (!schema || typeof schema !== 'object') return undefined
  const s = schema as Record<string, any>
  if (Array.isArray(s.anyOf)) {
    const misses = s.anyOf.map((branch: JsonSchema) => schemaMismatch(branch, value, path))
    if (misses.every((m: string | undefined) => m !== undefined)) return misses[0]
  }
  const types = typeof s.type === 'string' ? [s.type] : Array.isArray(s.type) ? (s.type as string[]) : undefined
  if (types && !types.some((t) => hasType(value, t))) return `'${path}' must be ${types.join(' or ')}, got ${describe(value)}`
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) return `'${path}' must be ${describe(s.const)}, got ${describe(value)}`
  if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) {
    return `'${path}' must be one of ${s.enum.map(describe).join(', ')}, got ${describe(value)}`
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) return `'${path}' must be at least ${s.minimum}, got ${value}`
    if (typeof s.maximum === 'number' && value > s.maximum) return `'${path}' must be at most ${s.maximum}, got ${value}`
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) return `'${path}' must be more than ${s.exclusiveMinimum}, got ${value}`
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) return `'${path}' must be less than ${s.exclusiveMaximum}, got ${value}`
  }
  if (typeof value === 'string') {
    const length = [...value].length
    if (typeof s.minLength === 'number' && length < s.minLength) return `'${path}' must be at least ${s.minLength} characters, got ${length}`
    if (typeof s.maxLength === 'number' && length > s.maxLength) return `'${path}' must be at most ${s.maxLength} characters, got ${length}`
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) return `'${path}' must have at least ${s.minItems} items, got ${value.length}`
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) return `'${path}' must have at most ${s.maxItems} items, got ${value.length}`
    if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) {
      for (let i = 0; i < value.length; i++) {
        const miss = schemaMismatch(s.items, value[i], `${path}[${i}]`)
        if (miss) return miss
      }
    }
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>
    const props = (s.properties ?? {}) as Record<string, JsonSchema>
    for (const key of Array.isArray(s.required) ? (s.required as string[]) : []) {
      if (!(key in obj)) return `'${path}.${key}' is required`
    }
    for (const [key, v] of Object.entries(obj)) {
      if (key in props) {
        const miss = schemaMismatch(props[key], v, `${path}.${key}`)
        if (miss) return miss
      } else if (s.additionalProperties === false) {
        return `'${path}' has no property '${key.slice(0, 64)}'`
      }
    }
  }
  return undefined
}

/** Throws INVALID_ARGUMENT naming the tool and the argument when `value` is outside the argument's schema. */
export function checkArgSchema(tool: string, name: string, schema: JsonSchema | undefined, value: unknown): void {
  const miss = schemaMismatch(schema, value, name)
  if (miss) throw invalid('INVALID_ARGUMENT', `${tool}(): argument ${miss}`)
}
