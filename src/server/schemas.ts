import * as v from 'valibot'
import { ExprNodeSchema } from '../query/nodes/schema.ts'
import { parseType } from '../types/index.ts'
import { limitedExpr, NameSchema } from './request.ts'

// Request-body pieces shared by several routes.

export const IfExistsSchema = v.picklist(['error', 'ignore', 'replace', 'replace_force'])
export const IfNotExistsSchema = v.picklist(['error', 'ignore'])
export const OnErrorSchema = v.picklist(['abort', 'ignore'])
/** An expression's JSON form, within the size limits of request.ts (depth, width, nodes). */
export const ExprSchema = limitedExpr(ExprNodeSchema)
export const RowsSchema = v.array(v.record(v.string(), v.unknown()), 'rows must be an array of objects')

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
