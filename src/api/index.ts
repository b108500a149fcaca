// The HTTP API's contract: what it answers (answers.ts, valibot schemas with their types) and the interface the
// library and the HTTP client both implement (contract.ts). Browser-safe: the client and the console import it.
// The server's reader of the query JSON (json-query.ts) is server code and is imported by path, not from here.
export * from './answers.ts'
export type * from './contract.ts'
// What other folders import from this one (added by the barrels codemod).
export { JsonQuerySchema, queryFromJson } from './json-query.ts'
