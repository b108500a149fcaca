import * as v from 'valibot'
import { nameRecord } from './request-pieces.ts'

// What the MCP endpoint's built-in tools take (POST /mcp, tools/call), as valibot schemas with their bounds: the
// server validates each call's arguments with these before anything runs, and tools/list publishes them as JSON
// Schema. (A retrieval function served as a tool brings its own parameter schema.)

/** Most rows a tool answers or inserts. */
export const MCP_MAX_ROWS = 1000
const Path = v.pipe(v.string(), v.minLength(1), v.maxLength(512))
const Column = v.pipe(v.string(), v.minLength(1), v.maxLength(128))
const SearchText = v.pipe(v.string(), v.minLength(1), v.maxLength(10_000))
const K = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MCP_MAX_ROWS)), 10)

export const ListTablesToolSchema = v.strictObject({ dir: v.optional(v.pipe(v.string(), v.maxLength(512)), '') })
export const DescribeTableToolSchema = v.strictObject({ table: Path })
/** A query in the HTTP API's JSON form (read by the query JSON reader, which names the path of what is wrong). */
export const QueryToolSchema = v.strictObject({ query: v.record(v.string(), v.unknown()) })
export const SimilaritySearchToolSchema = v.strictObject({ table: Path, column: Column, text: SearchText, k: K })
export const HybridSearchToolSchema = v.strictObject({ table: Path, column: Column, text: SearchText, k: K })
export const InsertToolSchema = v.strictObject({
  table: Path,
  // nameRecord: a row's '__proto__' key is refused, not dropped without a word as valibot's record drops it.
  rows: v.pipe(v.array(nameRecord(v.string(), v.unknown(), 'column name')), v.minLength(1), v.maxLength(MCP_MAX_ROWS)),
  onError: v.optional(v.picklist(['abort', 'ignore']), 'abort'),
})
export type ListTablesToolArgs = v.InferInput<typeof ListTablesToolSchema>
export type DescribeTableToolArgs = v.InferInput<typeof DescribeTableToolSchema>
export type QueryToolArgs = v.InferInput<typeof QueryToolSchema>
export type SimilaritySearchToolArgs = v.InferInput<typeof SimilaritySearchToolSchema>
export type HybridSearchToolArgs = v.InferInput<typeof HybridSearchToolSchema>
export type InsertToolArgs = v.InferInput<typeof InsertToolSchema>
