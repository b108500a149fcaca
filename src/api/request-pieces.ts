import * as v from 'valibot'
import { checkName, parsePath } from '../catalog/index.ts'
import { ExprNodeSchema } from '../query/index.ts'
import { checkNotReserved, parseType, RESERVED_NAMES } from '../types/index.ts'

// The bounded building blocks of the request schemas (requests.ts): names and paths through the catalog's own checks,
// expressions within size limits, rows, column types, embedders. Each is a valibot schema built once at load.

/** Expression size limits: deeper or wider trees are refused before anything walks them recursively. */
export const EXPR_LIMITS = Object.freeze({ depth: 64, args: 1_000, nodes: 20_000, selectItems: 1_000 })

// The catalog's own checks run inside the schema and throw their own errors (INVALID_NAME with the catalog's
// message), so a name refused here reads exactly as the same name refused by the library.
const catalogCheck = (fn: (s: string) => unknown) => v.check<string>((s) => {
  fn(s)
  return true
})

/**
 * A column, index or other object name: the catalog's one name check, and no reserved name (src/types/names.ts:
 * '__proto__', 'constructor', 'prototype', which a plain object or valibot does not keep as a key).
 */
export const NameSchema = v.pipe(v.string(), v.maxLength(256), catalogCheck((s) => checkNotReserved(checkName(s, 'name'), 'name')))

/**
 * A record keyed by names (a table's schema, update values, select outputs). valibot's record skips the reserved keys
 * without a word, before its key schema sees them: a table created with a '__proto__' column was created without it.
 * Such a key is refused first, as NameSchema refuses it (INVALID_NAME). An array is refused too: valibot's record
 * takes one as an object keyed '0', '1', ..., so a query's select of bare expressions ([{"col": "name"}]) answered a
 * column named '0'. Typed as the record it reads.
 */
export function nameRecord<K extends v.GenericSchema<string, string>, V extends v.GenericSchema>(key: K, value: V, what = 'name') {
  const record = v.record(key, value)
  return v.pipe(
    v.unknown(),
    v.check((x: unknown) => !Array.isArray(x), `expected an object keyed by ${what}, got an array`),
    v.check<unknown>((x) => {
      if (x !== null && typeof x === 'object') for (const k of RESERVED_NAMES) if (Object.hasOwn(x, k)) checkNotReserved(k, what)
      return true
    }),
    record,
  ) as unknown as typeof record
}
/** A dir or table path ('a/b'). */
export const PathSchema = v.pipe(v.string(), v.maxLength(4096), catalogCheck((s) => parsePath(s)))
/** A table path that may name a version ('a/b:3'). */
export const VersionedPathSchema = v.pipe(v.string(), v.maxLength(4096), catalogCheck((s) => parsePath(s, { allowVersion: true })))

/** Problems with an expression's size, or undefined. Iterative, so a 5,000-deep tree cannot overflow the stack. */
export function exprLimitIssue(expr: unknown, at = 'expression'): string | undefined {
  const stack: [unknown, number][] = [[expr, 1]]
  let nodes = 0
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!
    if (x === null || typeof x !== 'object' || Array.isArray(x)) continue
    if (++nodes > EXPR_LIMITS.nodes) return `${at}: more than ${EXPR_LIMITS.nodes} nodes (limit)`
    if (depth > EXPR_LIMITS.depth) return `${at}: nests deeper than ${EXPR_LIMITS.depth} calls (limit)`
    const args = (x as { args?: unknown }).args
    if (Array.isArray(args)) {
      if (args.length > EXPR_LIMITS.args) return `${at}: a call has ${args.length} arguments, more than ${EXPR_LIMITS.args} (limit)`
      for (const a of args) stack.push([a, depth + 1])
    }
  }
  return undefined
}

/** An expression with the size limits checked before (and the shape checked by) the expression schema. */
export function limitedExpr<S extends v.GenericSchema>(schema: S) {
  return v.pipe(schema, v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const issue = exprLimitIssue(dataset.value)
    if (issue) addIssue({ message: issue })
  }))
}

export const IfExistsSchema = v.picklist(['error', 'ignore', 'replace', 'replace_force'])
export const IfNotExistsSchema = v.picklist(['error', 'ignore'])
export const OnErrorSchema = v.picklist(['abort', 'ignore'])
export const MetricSchema = v.picklist(['cosine', 'ip', 'l2'])
/** How the embedded store's native index holds vectors (an index's setting, and its listing's native status). */
export const QuantizationSchema = v.picklist(['f32', 'f16', 'i8'])
/** An expression's JSON form, within the size limits above (depth, width, nodes). */
export const ExprSchema = limitedExpr(ExprNodeSchema)

/**
 * Rows of an insert or batch update: an array of plain objects, checked without copying each row (the table checks
 * every value against its column type next, so a per-row copy here was a second full pass over large inserts).
 */
export const RowsSchema = v.pipe(
  v.array(v.unknown(), 'rows must be an array of objects'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const rows = dataset.value as unknown[]
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        addIssue({ message: `row ${i} is not an object (rows must be an array of objects)` })
        return
      }
    }
  }),
  v.transform((rows) => rows as Record<string, unknown>[]),
)

/** A column type ('int', 'string?', 'array<float32>[384]'); the type parser's INVALID_TYPE names what is wrong. */
export const TypeSchema = v.pipe(v.string(), v.maxLength(256), v.check((s) => {
  parseType(s)
  return true
}))

/** Options of an embedder: plain JSON values under names (no prototype keys reach a lookup table). */
const OptsSchema = v.pipe(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'an option name is letters, digits and _')), v.unknown()), v.check((o) => Object.keys(o).length <= 64, 'at most 64 options'))

/** An embedder as data, as `embedders.lexical()`, `embedders.text(model)` and `embedders.image(model)` return it. */
export const EmbedderSchema = v.strictObject({
  fn: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  opts: v.optional(OptsSchema, {}),
  modality: v.picklist(['text', 'image']),
})

/** Text search configurations PostgreSQL ships (to_tsvector's first argument). */
export const TEXT_SEARCH_LANGUAGES = [
  'simple', 'arabic', 'armenian', 'basque', 'catalan', 'danish', 'dutch', 'english', 'finnish', 'french', 'german', 'greek',
  'hindi', 'hungarian', 'indonesian', 'irish', 'italian', 'lithuanian', 'nepali', 'norwegian', 'portuguese', 'romanian',
  'russian', 'serbian', 'spanish', 'swedish', 'tamil', 'turkish', 'yiddish',
] as const
export const LanguageSchema = v.picklist(TEXT_SEARCH_LANGUAGES, `unknown text search language; use one of ${TEXT_SEARCH_LANGUAGES.join(', ')}`)

/** A token scope: a dir prefix with read or write access. */
export const ScopeSchema = v.strictObject({ prefix: v.pipe(v.string(), v.maxLength(4096)), access: v.picklist(['read', 'write']) })

/**
 * A request body for one library call: its fields, and unknown keys refused with the library's own words
 * ("createTable: unknown option 'primary_key'; it takes 'primaryKey', ..."), so a misspelt option reads the same over
 * HTTP as in-process. `shape` picks the call from the body when one route serves two (addColumn/addComputedColumn).
 * Typed as the strict object it checks (the loose object inside only lets the unknown keys reach the check).
 */
export function callBody<E extends v.ObjectEntries>(entries: E, shape: (input: Record<string, unknown>) => { call: string; fields: readonly string[]; options: readonly string[] }) {
  return v.pipe(
    v.looseObject(entries),
    v.rawCheck(({ dataset, addIssue }) => {
      const input = dataset.value
      if (!input || typeof input !== 'object') return
      const { call, fields, options } = shape(input as Record<string, unknown>)
      const unknown = Object.keys(input).filter((k) => !fields.includes(k) && !options.includes(k))
      if (unknown.length > 0) addIssue({ message: `${call}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; it takes ${options.map((k) => `'${k}'`).join(', ')}` })
    }),
    v.transform((x) => x as v.InferOutput<v.ObjectSchema<E, undefined>>),
  ) as unknown as v.GenericSchema<v.InferInput<v.ObjectSchema<E, undefined>>, v.InferOutput<v.ObjectSchema<E, undefined>>>
}

/** One call's fixed shape (most routes). */
export const call = (name: string, fields: readonly string[], options: readonly string[]) => () => ({ call: name, fields, options })

/** A boolean option, refused as the library refuses it ("stored must be true or false, got \"no\""). */
export const BoolOption = (call: string, name: string) => v.boolean((issue) => `${call}: ${name} must be true or false, got ${JSON.stringify(issue.input)}`)
