import * as v from 'valibot'
import { ERROR_CODES } from '../errors.ts'
import { ExprNodeSchema } from '../query/index.ts'

// What the HTTP API answers, as valibot schemas: the server's answers are built to these shapes (test/server checks
// them), /openapi.json describes them, and the client and the console take their types from them. Browser-safe:
// valibot and the expression schema only.

const Str = v.string()
const Count = v.pipe(v.number(), v.integer(), v.minValue(0))

/** Every error answer: { error: { code, message, details? } }; the status follows the code (src/errors.ts). */
export const ErrorAnswerSchema = v.object({
  error: v.object({
    code: v.picklist(Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]),
    message: Str,
    details: v.optional(v.record(Str, v.unknown())),
  }),
})
export type ErrorAnswer = v.InferOutput<typeof ErrorAnswerSchema>

export const ColumnInfoSchema = v.object({
  name: Str,
  type: Str,
  computedWith: v.optional(Str),
  expr: v.optional(ExprNodeSchema),
  onError: v.optional(v.picklist(['abort', 'ignore'])),
  primaryKey: v.boolean(),
  addedIn: Count,
})
export type ColumnInfo = v.InferOutput<typeof ColumnInfoSchema>

/** An embedder as data ({fn, opts, modality}), as embedders.lexical()/text()/image() return it. */
export const EmbedderInfoSchema = v.object({ fn: Str, opts: v.optional(v.record(Str, v.unknown())), modality: v.picklist(['text', 'image', 'vector']) })

export const IndexInfoSchema = v.object({
  name: Str,
  column: Str,
  metric: v.picklist(['cosine', 'ip', 'l2']),
  dims: Count,
  embed: EmbedderInfoSchema,
  fullText: v.optional(Str),
  ann: v.optional(v.record(Str, v.unknown())),
})
export type IndexInfo = v.InferOutput<typeof IndexInfoSchema>

/** GET /tables/{path} and every answer that changes a schema: the table as the caller sees it now. */
export const TableInfoSchema = v.object({
  /** 'dir/t', or 'dir/t:3' for a past version. */
  path: Str,
  kind: v.picklist(['table', 'view', 'snapshot']),
  version: Count,
  readOnly: v.boolean(),
  primaryKey: v.array(Str),
  columns: v.array(ColumnInfoSchema),
  indexes: v.array(IndexInfoSchema),
  comment: v.optional(Str),
})
export type TableInfo = v.InferOutput<typeof TableInfoSchema>

/** What a write did (insert, update, delete, batch update, recompute, schema changes). */
export const UpdateStatusSchema = v.object({
  version: Count,
  numRows: Count,
  numInserted: Count,
  numUpdated: Count,
  numDeleted: Count,
  numComputedValues: Count,
  numExcs: Count,
  colsWithExcs: v.array(Str),
  updatedCols: v.array(Str),
})
export type UpdateStatus = v.InferOutput<typeof UpdateStatusSchema>

/** A schema change: what it did and the table after it. */
export const SchemaChangeAnswerSchema = v.object({ status: UpdateStatusSchema, table: TableInfoSchema })
export type SchemaChangeAnswer = v.InferOutput<typeof SchemaChangeAnswerSchema>

export const ResultColumnSchema = v.object({ name: Str, type: Str })
export type ResultColumn = v.InferOutput<typeof ResultColumnSchema>

/** A query's rows as JSON: timestamps as ISO strings, bytes as base64 (the client revives both by column type). */
export const QueryAnswerSchema = v.object({ columns: v.array(ResultColumnSchema), rows: v.array(v.record(Str, v.unknown())) })
export type QueryAnswer = v.InferOutput<typeof QueryAnswerSchema>

export const CountAnswerSchema = v.object({ count: Count })
export type CountAnswer = v.InferOutput<typeof CountAnswerSchema>

export const VersionInfoSchema = v.object({
  version: Count,
  createdAt: Str,
  kind: Str,
  inserted: Count,
  updated: Count,
  deleted: Count,
  errors: Count,
  schema: v.record(Str, Str),
})
/** A version as it travels (createdAt an ISO string; the client makes it a Date). */
export type VersionInfoWire = v.InferOutput<typeof VersionInfoSchema>
export const HistoryAnswerSchema = v.object({ versions: v.array(VersionInfoSchema) })
export type HistoryAnswer = v.InferOutput<typeof HistoryAnswerSchema>

export const RevertAnswerSchema = v.object({ version: Count })

export const JobInfoSchema = v.object({
  /** The job's unguessable key: the API names jobs by it. */
  id: Str,
  kind: Str,
  table: Str,
  column: Str,
  index: v.optional(Str),
  status: v.picklist(['running', 'done', 'failed', 'cancelled', 'interrupted']),
  rowsDone: Count,
  rowsTotal: Count,
  error: v.nullable(Str),
  createdAt: Str,
  updatedAt: Str,
})
export type JobInfoWire = v.InferOutput<typeof JobInfoSchema>
export const JobListAnswerSchema = v.object({ jobs: v.array(JobInfoSchema) })

export const TableListAnswerSchema = v.object({ tables: v.array(Str) })
export const DirListAnswerSchema = v.object({ dirs: v.array(Str) })
export const CreatedAnswerSchema = v.object({ created: v.boolean() })
export const HealthAnswerSchema = v.object({ status: Str, version: Str })
export type HealthAnswer = v.InferOutput<typeof HealthAnswerSchema>
