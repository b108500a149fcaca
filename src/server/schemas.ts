import * as v from 'valibot'
import { ExprNodeSchema } from '../query/index.ts'
import { parseType } from '../types/index.ts'
import { limitedExpr, NameSchema } from './request.ts'

// Request-body pieces shared by several routes.

export const IfExistsSchema = v.picklist(['error', 'ignore', 'replace', 'replace_force'])
export const IfNotExistsSchema = v.picklist(['error', 'ignore'])
export const OnErrorSchema = v.picklist(['abort', 'ignore'])
/** An expression's JSON form, within the size limits of request.ts (depth, width, nodes). */
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
export { NameSchema }

/**
 * A request body for one library call: its fields, and unknown keys refused with the library's own words
 * ("createTable: unknown option 'primary_key'; it takes 'primaryKey', ..."), so a misspelt option reads the same over
 * HTTP as in-process. `shape` picks the call from the body when one route serves two (addColumn/addComputedColumn).
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
  )
}

/** One call's fixed shape (most routes). */
export const call = (name: string, fields: readonly string[], options: readonly string[]) => () => ({ call: name, fields, options })

/** A boolean option, refused as the library refuses it ("stored must be true or false, got \"no\""). */
export const BoolOption = (call: string, name: string) => v.boolean((issue) => `${call}: ${name} must be true or false, got ${JSON.stringify(issue.input)}`)
