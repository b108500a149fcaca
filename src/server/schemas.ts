import * as v from 'valibot'
import { ExprNodeSchema } from '../query/nodes/schema.ts'

// Request-body pieces shared by several routes.

export const IfExistsSchema = v.picklist(['error', 'ignore', 'replace', 'replace_force'])
export const IfNotExistsSchema = v.picklist(['error', 'ignore'])
export const OnErrorSchema = v.picklist(['abort', 'ignore'])
export const ExprSchema = ExprNodeSchema
export const RowsSchema = v.array(v.record(v.string(), v.unknown()), 'rows must be an array of objects')
