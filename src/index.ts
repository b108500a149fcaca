// Tessera's public library surface.
import './functions/index.ts'

export { Tessera, Table, defaultHome } from './catalog/index.ts'
export type * from './catalog/index.ts'
export { Expr, Query, ResultSet, agg, and, call, coalesce, col, ifElse, lit, not, or, functions } from './query/index.ts'
export type { ExprLike, ExprNode, ColNode, FnNode, LitNode, FunctionDef } from './query/index.ts'
export { importFile, importData, exportQuery, exportStream } from './io/index.ts'
export type { ImportOptions, ImportDataOptions, ImportResult, ImportProgress, ExportOptions, ExportResult } from './io/index.ts'
export { TesseraError, NotFoundError, AlreadyExistsError, RequestError, ConcurrencyError } from './errors.ts'
export type { ErrorCode } from './errors.ts'
export { parseType, formatType } from './types/index.ts'
export type { ColumnType } from './types/index.ts'
