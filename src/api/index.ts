// The HTTP API's contract: what it takes (requests.ts, with the bounded pieces in request-pieces.ts) and what it
// answers (answers.ts), as valibot schemas with their inferred types, and the interface the library and the HTTP
// client both implement (contract.ts). The client and the console import types only from here; the schemas run on
// the server (the name, path and type checks are the catalog's own).
export * from './answers.ts'
export * from './requests.ts'
export * from './params.ts'
export * from './mcp-tools.ts'
export {
  EXPR_LIMITS, exprLimitIssue, limitedExpr, NameSchema, PathSchema, VersionedPathSchema, IfExistsSchema, IfNotExistsSchema,
  OnErrorSchema, MetricSchema, ExprSchema, RowsSchema, TypeSchema, EmbedderSchema, LanguageSchema, TEXT_SEARCH_LANGUAGES, ScopeSchema,
} from './request-pieces.ts'
export type * from './contract.ts'
// The server's reader of the query JSON.
export { JsonQuerySchema, queryFromJson } from './json-query.ts'
export type { JsonQuery } from './json-query.ts'
