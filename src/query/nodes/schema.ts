import * as v from 'valibot'
import type { ExprNode } from './types.ts'

// The valibot schema for the JSON form of an expression, used wherever an expression arrives from outside.

export const ExprNodeSchema: v.GenericSchema<ExprNode> = v.lazy(() =>
  v.union([
    v.strictObject({
      col: v.pipe(v.string(), v.minLength(1)),
      tbl: v.optional(v.string()),
      prop: v.optional(v.picklist(['errortype', 'errormsg'])),
    }),
    v.strictObject({ lit: v.unknown(), type: v.optional(v.string()) }),
    v.strictObject({
      fn: v.pipe(v.string(), v.minLength(1)),
      args: v.optional(v.array(ExprNodeSchema), []),
      opts: v.optional(v.record(v.string(), v.unknown())),
    }),
  ], 'expected an expression: {"col": name}, {"lit": value} or {"fn": name, "args": [...]}'),
) as v.GenericSchema<ExprNode>
