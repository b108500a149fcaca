import * as v from 'valibot'
import { ERROR_CODES } from '../errors.ts'
import { ExprNodeSchema } from '../query/index.ts'
import { QuantizationSchema } from './request-pieces.ts'

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
  /** A scalar index serves filters on the column (addScalarIndex). */
  indexed: v.optional(v.boolean()),
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
  /** The embedded store's native index: building (searches are exact), catching up, ready, or not loaded yet. */
  native: v.optional(v.object({
    state: v.picklist(['not loaded', 'building', 'catching up', 'ready']),
    vectors: Count,
    /** The table version the graph covers; -1 while there is none. */
    version: v.pipe(v.number(), v.integer(), v.minValue(-1)),
    /** How the graph holds its vectors (f16: cosine's default), while there is one. */
    quantization: v.optional(QuantizationSchema),
  })),
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
export const QueryAnswerSchema = v.object({
  columns: v.array(ResultColumnSchema),
  rows: v.array(v.record(Str, v.unknown())),
  /**
   * A keyset page (the request's keyset) that filled its limit: send this back as the next request's keyset for the
   * rows after it. Absent: no rows follow this page.
   */
  keyset: v.optional(v.object({ after: Str })),
})
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
export type RevertAnswer = v.InferOutput<typeof RevertAnswerSchema>

export const JobInfoSchema = v.object({
  /** The job's unguessable key: the API names jobs by it. */
  id: Str,
  kind: Str,
  table: Str,
  column: Str,
  index: v.optional(Str),
  /** Index jobs: what the index swapped in at the end is built with (as the index list describes an index). */
  builds: v.optional(v.object({ metric: v.picklist(['cosine', 'ip', 'l2']), dims: Count, embed: EmbedderInfoSchema, fullText: v.optional(Str) })),
  status: v.picklist(['running', 'done', 'failed', 'cancelled', 'interrupted']),
  rowsDone: Count,
  rowsTotal: Count,
  error: v.nullable(Str),
  createdAt: Str,
  updatedAt: Str,
})
export type JobInfoWire = v.InferOutput<typeof JobInfoSchema>
export const JobListAnswerSchema = v.object({ jobs: v.array(JobInfoSchema) })
export type JobListAnswer = v.InferOutput<typeof JobListAnswerSchema>
export const IndexListAnswerSchema = v.object({ indexes: v.array(IndexInfoSchema) })
export type IndexListAnswer = v.InferOutput<typeof IndexListAnswerSchema>

export const TableListAnswerSchema = v.object({ tables: v.array(Str) })
export type TableListAnswer = v.InferOutput<typeof TableListAnswerSchema>
export const DirListAnswerSchema = v.object({ dirs: v.array(Str) })
export type DirListAnswer = v.InferOutput<typeof DirListAnswerSchema>
export const CreatedAnswerSchema = v.object({ created: v.boolean() })
export type CreatedAnswer = v.InferOutput<typeof CreatedAnswerSchema>
export const HealthAnswerSchema = v.object({ status: Str, version: Str })
export type HealthAnswer = v.InferOutput<typeof HealthAnswerSchema>

// ---- data lifecycle and integrity (admin routes; as db.gc(), db.compact(), db.setRetention(), db.check()) ----

/** What a media collection found and did. */
export const GcReportSchema = v.object({
  files: Count,
  bytes: Count,
  orphans: Count,
  orphanBytes: Count,
  recent: Count,
  deleted: Count,
  bytesFreed: Count,
  /** Refs that rows hold but the store lacks (lost files: restore them from a backup). */
  missing: v.array(Str),
  /** The orphans' refs (the first 1,000). */
  orphanRefs: v.array(Str),
  dryRun: v.boolean(),
})
export type GcReportAnswer = v.InferOutput<typeof GcReportSchema>

export const TableCompactionSchema = v.object({
  path: Str,
  version: Count,
  oldestVersion: Count,
  keptVersions: v.array(Count),
  rowVersionsRemoved: Count,
  columnsDropped: v.array(Str),
  bytesBefore: Count,
  bytesAfter: Count,
  vacuum: v.picklist(['full', 'plain', 'none']),
})
export const CompactReportSchema = v.object({
  tables: v.array(TableCompactionSchema),
  rowVersionsRemoved: Count,
  bytesFreed: v.number(),
  dataDirBytesBefore: v.optional(Count),
  dataDirBytesAfter: v.optional(Count),
  media: v.optional(GcReportSchema),
  dryRun: v.boolean(),
  ms: v.number(),
})
export type CompactReportAnswer = v.InferOutput<typeof CompactReportSchema>

/** A table's retention policy in stored form, and where it came from ('none': every version is kept). */
export const RetentionAnswerSchema = v.object({
  keepVersions: v.optional(Count),
  keepSeconds: v.optional(v.number()),
  source: v.picklist(['table', 'database', 'none']),
})
export type RetentionAnswer = v.InferOutput<typeof RetentionAnswerSchema>

/** GET /admin/check: catalog and data problems (none on a healthy database), the media store, repairs made at open. */
export const CheckAnswerSchema = v.object({
  tables: Count,
  problems: v.array(v.object({ table: Str, problem: Str })),
  media: GcReportSchema,
  repaired: v.optional(v.array(v.object({ table: Str, rows: Count, columns: v.optional(v.array(Str)) }))),
})
export type CheckAnswer = v.InferOutput<typeof CheckAnswerSchema>

// ---- the caller and the console's media previews ----

/** GET /whoami: the calling token's name, whether it is an admin token, and its dir-prefix scopes. */
export const PrincipalAnswerSchema = v.object({
  name: Str,
  admin: v.boolean(),
  scopes: v.array(v.object({ prefix: Str, access: v.picklist(['read', 'write']) })),
})
export type PrincipalAnswer = v.InferOutput<typeof PrincipalAnswerSchema>

/** GET …/-/media?preview=text: the start of a document's plain text. */
export const DocumentPreviewSchema = v.object({
  text: Str,
  /** True when the document has more text than `text` shows. */
  truncated: v.boolean(),
  /** PDF page count. */
  pages: v.optional(Count),
  title: v.optional(Str),
  /** The parsed format: pdf, html, md or txt. */
  kind: v.picklist(['pdf', 'html', 'md', 'txt']),
})
export type DocumentPreview = v.InferOutput<typeof DocumentPreviewSchema>
