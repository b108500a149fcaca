// The query-string parameters the HTTP API takes, with their bounds: the server reads each through its request layer
// (src/server/request.ts: readParam), which refuses a value outside them with a 400 naming the parameter and the
// range; /openapi.json describes each with the same bounds; the client builds its query strings typed by ParamValues.
// Plain data (no code runs here), so the browser side may import it as it likes.

export interface IntParam { readonly kind: 'int'; readonly min: number; readonly max: number; readonly default?: number; readonly required?: boolean }
/** '', 'true', '1' → true; 'false', '0' → false. */
export interface BoolParam { readonly kind: 'bool'; readonly required?: boolean }
export interface EnumParam<T extends string = string> { readonly kind: 'enum'; readonly values: readonly T[]; readonly default?: T; readonly required?: boolean }
export interface StringParam { readonly kind: 'string'; readonly maxLength: number; readonly required?: boolean }
export type ParamSpec = IntParam | BoolParam | EnumParam | StringParam
export type ParamSpecs = Readonly<Record<string, ParamSpec>>

function int(min: number, max: number): IntParam
function int(min: number, max: number, dflt: number): IntParam & { readonly default: number }
function int(min: number, max: number, dflt?: number): IntParam {
  return dflt === undefined ? { kind: 'int', min, max } : { kind: 'int', min, max, default: dflt }
}
const bool = (): BoolParam => ({ kind: 'bool' })
function oneOf<const T extends string>(values: readonly T[]): EnumParam<T>
function oneOf<const T extends string>(values: readonly T[], dflt: T): EnumParam<T> & { readonly default: T }
function oneOf<const T extends string>(values: readonly T[], dflt?: T): EnumParam<T> {
  return dflt === undefined ? { kind: 'enum', values } : { kind: 'enum', values, default: dflt }
}
const text = (maxLength = 4096): StringParam => ({ kind: 'string', maxLength })

/** A parameter's value as read: one with a default, or required, is always there. */
export type ParamValue<P extends ParamSpec> =
  | (P extends IntParam ? number : P extends BoolParam ? boolean : P extends EnumParam<infer T> ? T : string)
  | (P extends { default: unknown } | { required: true } ? never : undefined)
export type ParamValues<P extends ParamSpecs> = { -readonly [K in keyof P]: ParamValue<P[K]> }

const IF_NOT_EXISTS = ['error', 'ignore'] as const

/** GET /tables. */
export const ListTablesParams = { dir: text(), recursive: bool() } as const satisfies ParamSpecs
/** GET /dirs. */
export const ListDirsParams = { path: text(), recursive: bool() } as const satisfies ParamSpecs
/** DELETE /tables/{path}, DELETE /dirs/{path}: force takes dependents (or contents) along. */
export const DropParams = { force: bool(), ifNotExists: oneOf(IF_NOT_EXISTS, 'error') } as const satisfies ParamSpecs
/** DELETE of a column or an index. */
export const DropPartParams = { ifNotExists: oneOf(IF_NOT_EXISTS, 'error') } as const satisfies ParamSpecs
/** GET /tables/{path}/-/rows: a page in insertion order (limit is also capped by the server's answer-row limit). */
export const RowsPageParams = { limit: int(1, 10_000, 100), offset: int(0, Number.MAX_SAFE_INTEGER, 0) } as const satisfies ParamSpecs
/** POST /query and /tables/{path}/-/query: rows per streamed batch (Accept: application/x-ndjson). */
export const QueryParams = { batchSize: int(1, 10_000, 1000) } as const satisfies ParamSpecs

export const IMPORT_FORMATS = ['csv', 'tsv', 'json', 'jsonl', 'parquet'] as const
export const EXPORT_FORMATS = ['jsonl', 'csv', 'parquet'] as const
/** POST /tables/{path}/-/import: the body is the file. */
export const ImportParams = {
  format: { ...oneOf(IMPORT_FORMATS), required: true },
  /** Column names, comma-separated, for a table the import creates. */
  primaryKey: text(),
  onBadRow: oneOf(['error', 'skip'] as const, 'error'),
  createTable: bool(),
  batchSize: int(1, 100_000),
} as const satisfies ParamSpecs
/** POST /export: the body is a query. */
export const ExportParams = { format: oneOf(EXPORT_FORMATS, 'jsonl'), batchSize: int(1, 100_000, 10_000) } as const satisfies ParamSpecs

/** GET /tables/{path}/-/media: a cell's bytes, a thumbnail (w), or a document's text (preview=text). */
export const MediaParams = { column: text(256), ref: text(8192), w: int(0, 2048, 0), preview: oneOf(['text'] as const), token: text() } as const satisfies ParamSpecs

/** GET /jobs/{id}/events: how often progress is looked at. */
export const JobEventsParams = { intervalMs: int(100, 60_000, 500) } as const satisfies ParamSpecs
/** POST /jobs/{id}/cancel: dropColumn also drops the column the job was adding. */
export const CancelJobParams = { dropColumn: bool() } as const satisfies ParamSpecs
