import * as v from 'valibot'
import { MAX_VECTOR_DIMS, SEARCH_MAX_CANDIDATES, SEARCH_MAX_K } from '../index/index.ts'
import { JsonQuerySchema } from './json-query.ts'
import {
  BoolOption, call, callBody, EmbedderSchema, ExprSchema, IfExistsSchema, LanguageSchema, MetricSchema, NameSchema, nameRecord, OnErrorSchema,
  PathSchema, QuantizationSchema, RowsSchema, ScopeSchema, TypeSchema, VersionedPathSchema,
} from './request-pieces.ts'
import type { Frozen } from './contract.ts'

// What the HTTP API takes, as valibot schemas with their bounds: the server validates every request body with these
// (each schema built once, at load) before anything reaches the engine, /openapi.json is generated from them, and the
// HTTP client and the console build their bodies typed by the inferred types (`…Request`: what a caller sends).
// Bodies that stand for a library call refuse unknown options in the library's words (callBody).

/** What a caller sends to a route: the schema's input, read-only (the client never changes what it is given). */
export type RequestOf<S extends v.GenericSchema> = Frozen<v.InferInput<S>>

// ---- dirs ----

export const CreateDirRequestSchema = v.strictObject({
  path: PathSchema,
  ifExists: v.optional(IfExistsSchema),
  parents: v.optional(v.boolean()),
})
export type CreateDirRequest = RequestOf<typeof CreateDirRequestSchema>

export const MoveRequestSchema = v.strictObject({ from: PathSchema, to: PathSchema })
export type MoveRequest = RequestOf<typeof MoveRequestSchema>

// ---- tables, views, snapshots ----

export const CreateTableRequestSchema = callBody({
  path: PathSchema,
  schema: v.pipe(nameRecord(NameSchema, TypeSchema, 'column name'), v.check((s) => Object.keys(s).length <= 1000, 'a table has at most 1000 columns (limit)')),
  primaryKey: v.optional(v.union([NameSchema, v.pipe(v.array(NameSchema), v.maxLength(32))])),
  ifExists: v.optional(IfExistsSchema),
  comment: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
  mediaValidation: v.optional(v.picklist(['on_write', 'on_read'])),
}, call('createTable', ['path', 'schema'], ['primaryKey', 'ifExists', 'comment', 'mediaValidation']))
export type CreateTableRequest = RequestOf<typeof CreateTableRequestSchema>

/** A view's iterator: a registered iterator by name, the column it reads, its arguments. */
export const IteratorRequestSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_.]{0,127}$/, 'an iterator name is letters, digits, _ and .')),
  input: NameSchema,
  args: v.optional(nameRecord(NameSchema, v.unknown(), 'argument name')),
})
export type IteratorRequest = RequestOf<typeof IteratorRequestSchema>

export const CreateViewRequestSchema = callBody({
  path: PathSchema,
  // A table path, or a query's JSON form whose where() the view follows (the library refuses anything else it says).
  base: v.union([PathSchema, v.looseObject({ table: VersionedPathSchema })], 'expected a table path or a query ({"table": ..., "where": ...})'),
  where: v.optional(ExprSchema),
  iterator: v.optional(IteratorRequestSchema),
  ifExists: v.optional(IfExistsSchema),
}, call('createView', ['path', 'base'], ['where', 'iterator', 'ifExists']))
export type CreateViewRequest = RequestOf<typeof CreateViewRequestSchema>

export const CreateSnapshotRequestSchema = callBody({ path: PathSchema, base: VersionedPathSchema, ifExists: v.optional(IfExistsSchema) }, call('createSnapshot', ['path', 'base'], ['ifExists']))
export type CreateSnapshotRequest = RequestOf<typeof CreateSnapshotRequestSchema>

// ---- rows ----

export const InsertRequestSchema = callBody({ rows: RowsSchema, onError: v.optional(OnErrorSchema) }, call('insert', ['rows'], ['onError']))
export type InsertRequest = RequestOf<typeof InsertRequestSchema>

export const UpdateRequestSchema = callBody({ values: nameRecord(NameSchema, v.unknown(), 'column name'), where: v.optional(ExprSchema), cascade: v.optional(v.boolean()) }, call('update', ['values'], ['where', 'cascade']))
export type UpdateRequest = RequestOf<typeof UpdateRequestSchema>

// Deleting every row must be explicit: an empty body (a client that forgot its filter) is refused.
export const DeleteRequestSchema = v.pipe(
  v.strictObject({ where: v.optional(ExprSchema), all: v.optional(v.literal(true)) }),
  v.check((b) => b.where !== undefined || b.all !== undefined, 'refusing to delete every row by default: give where (the rows to delete), or {"all": true} to delete every row'),
  v.check((b) => b.where === undefined || b.all === undefined, 'give where or {"all": true}, not both'),
)
export type DeleteRequest = RequestOf<typeof DeleteRequestSchema>

export const BatchUpdateRequestSchema = callBody({ rows: RowsSchema, ifNotExists: v.optional(v.picklist(['error', 'ignore', 'insert'])), cascade: v.optional(v.boolean()) }, call('batchUpdate', ['rows'], ['ifNotExists', 'cascade']))
export type BatchUpdateRequest = RequestOf<typeof BatchUpdateRequestSchema>

// ---- columns ----

// One route for addColumn (type) and addComputedColumn (expr): each refuses the other's options by name.
export const AddColumnRequestSchema = callBody({
  name: NameSchema,
  type: v.optional(TypeSchema),
  expr: v.optional(ExprSchema),
  onError: v.optional(OnErrorSchema),
  ifExists: v.optional(IfExistsSchema),
  stored: v.optional(BoolOption('addComputedColumn', 'stored')),
}, (b) => (b.expr !== undefined
  ? { call: 'addComputedColumn', fields: ['name', 'expr'], options: ['onError', 'ifExists', 'stored'] }
  : { call: 'addColumn', fields: ['name', 'type'], options: ['ifExists'] }))
export type AddColumnRequest = RequestOf<typeof AddColumnRequestSchema>

/** POST /tables/{path}/-/columns/{name}/index: Table.addScalarIndex(name, options). */
export const AddScalarIndexRequestSchema = callBody({ ifExists: v.optional(v.picklist(['error', 'ignore'])) }, call('addScalarIndex', [], ['ifExists']))
export type AddScalarIndexRequest = RequestOf<typeof AddScalarIndexRequestSchema>

export const RenameColumnRequestSchema = v.strictObject({ to: NameSchema })
export type RenameColumnRequest = RequestOf<typeof RenameColumnRequestSchema>

export const RecomputeRequestSchema = callBody({
  columns: v.union([NameSchema, v.pipe(v.array(NameSchema), v.maxLength(1000))]),
  where: v.optional(ExprSchema),
  errorsOnly: v.optional(v.boolean()),
  cascade: v.optional(v.boolean()),
}, call('recomputeColumns', ['columns'], ['where', 'errorsOnly', 'cascade']))
export type RecomputeRequest = RequestOf<typeof RecomputeRequestSchema>

// ---- embedding indexes and search ----

/** HNSW knobs of an index (bounds checked again by addEmbeddingIndex, which names the rule). */
const HNSW_KNOBS = {
  m: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(100))),
  efConstruction: v.optional(v.pipe(v.number(), v.integer(), v.minValue(4), v.maxValue(1000))),
  efSearch: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
  quantization: v.optional(QuantizationSchema),
}

export const AddIndexRequestSchema = v.strictObject({
  column: NameSchema,
  /** Left out for a column that holds vectors (array<float32>[n]). */
  embed: v.optional(EmbedderSchema),
  metric: v.optional(MetricSchema),
  ...HNSW_KNOBS,
  name: v.optional(NameSchema),
  ifExists: v.optional(IfExistsSchema),
  onError: v.optional(OnErrorSchema),
  /** Text indexes on string columns: the full-text configuration hybrid search uses ('english'), or false. */
  fullText: v.optional(v.union([LanguageSchema, v.literal(false)])),
})
export type AddIndexRequest = RequestOf<typeof AddIndexRequestSchema>

export const SearchRequestSchema = v.strictObject({
  column: NameSchema,
  text: v.optional(v.pipe(v.string(), v.maxLength(100_000))),
  /** An image as a data: URL or plain base64. */
  image: v.optional(v.string()),
  /** A query vector, as many numbers as the index's dimensions (indexes over vector columns take only this). */
  vector: v.optional(v.pipe(v.array(v.number()), v.minLength(1), v.maxLength(MAX_VECTOR_DIMS))),
  idx: v.optional(NameSchema),
  k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(SEARCH_MAX_K))),
  /** Candidates the approximate search explores, or exact: true to rank every row. */
  efSearch: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000))),
  exact: v.optional(v.boolean()),
  where: v.optional(ExprSchema),
  /** Fuse full-text ranking with the vector ranking (text queries on string columns). */
  hybrid: v.optional(v.boolean()),
  /** Hybrid only: candidates from each side, the text search configuration, the reciprocal-rank constant. */
  candidates: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(SEARCH_MAX_CANDIDATES))),
  language: v.optional(LanguageSchema),
  rrfK: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1_000_000))),
  /** Also return `<col>#errortype` and `<col>#errormsg` for each computed column. */
  errors: v.optional(v.boolean()),
})
export type SearchRequest = RequestOf<typeof SearchRequestSchema>

// ---- queries ----

/** The largest row position (_rowid, a Postgres bigint): 19 digits. */
const MAX_ROW_POSITION = '9223372036854775807'
const AFTER_EXPECTED = 'expected a row position as an answer\'s keyset.after gives it: a string of digits, at most 9223372036854775807'

/**
 * A keyset page's position: the row the page starts after, as the previous page's answer gave it (keyset.after). It
 * only moves where the page starts within the rows of the query sent with it; it names no table and reads nothing
 * that query could not read.
 */
export const KeysetAfterSchema = v.pipe(
  v.string(AFTER_EXPECTED),
  v.maxLength(MAX_ROW_POSITION.length, AFTER_EXPECTED),
  v.regex(/^(0|[1-9][0-9]*)$/, AFTER_EXPECTED),
  v.check((s) => s.length < MAX_ROW_POSITION.length || s <= MAX_ROW_POSITION, AFTER_EXPECTED),
)

/**
 * Keyset paging, what the HTTP client's stream() sends for a query over one table in insertion order (no orderBy,
 * groupBy, distinct, sample, offset or joins): `{}` for the first page, then the previous answer's `keyset` as it came
 * ({"after": position}). Each page reads the rows after the last one returned instead of skipping `offset` rows.
 */
export const KeysetRequestSchema = v.strictObject(
  { after: v.optional(KeysetAfterSchema) },
  'expected {} (the first page) or {"after": position} (the previous answer\'s keyset)',
)
export type KeysetRequest = RequestOf<typeof KeysetRequestSchema>

/**
 * The query's JSON form (json-query.ts) plus head or tail (the first or last n rows in insertion order, as
 * Query.head()/tail()) or keyset (a page after a row position: the answer says where the next page starts). The query
 * routes check the size limits first and read the query with the query's own reader (which names the JSON path of what
 * is wrong); this schema is what /openapi.json and the client's types say.
 */
export const QueryRequestSchema = v.object({
  ...JsonQuerySchema.entries,
  head: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  tail: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  keyset: v.optional(KeysetRequestSchema),
})
export type QueryRequest = RequestOf<typeof QueryRequestSchema>

// ---- background jobs ----

export const StartJobRequestSchema = v.strictObject({
  table: PathSchema,
  /** The computed column to add (with expr), or the column to index (with index). */
  column: NameSchema,
  expr: v.optional(ExprSchema),
  /** Build an embedding index on `column` instead (the embedder as data, as in POST …/-/indexes). */
  index: v.optional(v.strictObject({
    embed: EmbedderSchema,
    name: v.optional(NameSchema),
    metric: v.optional(MetricSchema),
    fullText: v.optional(v.union([LanguageSchema, v.literal(false)])),
    ...HNSW_KNOBS,
  })),
  onError: v.optional(OnErrorSchema),
  ifExists: v.optional(v.picklist(['error', 'replace'])),
  batchSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000))),
})
export type StartJobRequest = RequestOf<typeof StartJobRequestSchema>

// ---- tokens ----

export const CreateTokenRequestSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[\w.@-]{1,64}$/, 'a token name is 1 to 64 letters, digits and _ . @ -')),
  admin: v.optional(v.boolean()),
  scopes: v.optional(v.pipe(v.array(ScopeSchema), v.maxLength(100))),
})
export type CreateTokenRequest = RequestOf<typeof CreateTokenRequestSchema>

// ---- data lifecycle (README "Data lifecycle"): the same options as db.compact(), db.gc() and db.setRetention() ----

const Duration = v.union([v.pipe(v.number(), v.minValue(0), v.maxValue(3.2e9)), v.pipe(v.string(), v.maxLength(20))])
export const RetentionPolicySchema = v.strictObject({ keepVersions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2 ** 31 - 1))), keepFor: v.optional(Duration) })
export const GcRequestSchema = v.strictObject({ dryRun: v.optional(v.boolean()), graceSeconds: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(3.2e9))) })
export type GcRequest = RequestOf<typeof GcRequestSchema>
export const CompactRequestSchema = v.strictObject({
  ...RetentionPolicySchema.entries, ...GcRequestSchema.entries,
  tables: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(1000))), v.maxLength(10000))),
  full: v.optional(v.boolean()), media: v.optional(v.boolean()), batchSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000))),
})
export type CompactRequest = RequestOf<typeof CompactRequestSchema>
export const RetentionRequestSchema = v.strictObject({ path: v.optional(v.pipe(v.string(), v.maxLength(1000))), policy: v.nullable(RetentionPolicySchema) })
export type RetentionRequest = RequestOf<typeof RetentionRequestSchema>
