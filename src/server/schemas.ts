import * as v from 'valibot'
import { ExprNodeSchema } from '../query/nodes/schema.ts'

// Request-body pieces shared by several routes.

export const IfExistsSchema = v.picklist(['error', 'ignore', 'replace', 'replace_force'])
export const IfNotExistsSchema = v.picklist(['error', 'ignore'])
export const OnErrorSchema = v.picklist(['abort', 'ignore'])
export const ExprSchema = ExprNodeSchema
export const RowsSchema = v.array(v.record(v.string(), v.unknown()), 'rows must be an array of objects')

/** An embedder as data, as `embedders.lexical()`, `embedders.text(model)` and `embedders.image(model)` return it. */
export const EmbedderSchema = v.strictObject({
  fn: v.pipe(v.string(), v.minLength(1)),
  opts: v.optional(v.record(v.string(), v.unknown()), {}),
  modality: v.picklist(['text', 'image']),
})
