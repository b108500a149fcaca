import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Tessera } from '../../catalog/index.ts'
import { invalid, refuseUnknownOptions } from '../../errors.ts'
import type { ByteInput, ImportBody } from './bytes.ts'
import { bodyInput, capped, fileInput, gunzipped, overLimit } from './bytes.ts'
import { csvSource } from './csv.ts'
import { jsonSource } from './json.ts'
import { mediaFolderSource } from './media-folder.ts'
import { parquetBody, parquetFile, parquetSource } from './parquet.ts'
import type { ParquetInput } from './parquet.ts'
import type { ImportResult, ImportRunOptions } from './run.ts'
import { runImport } from './run.ts'
import type { RecordSource } from './source.ts'

// Public import entry points: importFile for a path (file or media folder), importData for a body an HTTP route
// or a caller already holds (a ReadableStream upload, bytes). Both stream; neither reads a whole file.

/** The formats importFile takes; 'media' is a folder of media files (the CLI's --format folder). */
const IMPORT_FORMATS = ['csv', 'tsv', 'json', 'jsonl', 'parquet', 'media'] as const
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

export interface ImportOptions extends ImportRunOptions {
  /** Default: from the file extension (a directory is 'media'). */
  readonly format?: ImportFormat
  /** CSV field delimiter (default ',' for csv, tab for tsv). */
  readonly delimiter?: string
  /** Media folders: only files matching this glob relative to the folder ('**\/*.jpg'). */
  readonly glob?: string
}

export interface ImportDataOptions extends ImportOptions {
  readonly format: Exclude<ImportFormat, 'media'>
  /** What to call the input in messages and reports (default 'upload'). */
  readonly name?: string
  /** 'gzip': the body is compressed (an HTTP upload with Content-Encoding: gzip), decompressed as it is read. */
  readonly encoding?: 'gzip' | 'identity'
  /**
   * Most bytes the body may hold, counted after decompression (a gzip upload); past it the import fails with
   * TOO_LARGE and writes nothing. The server passes its --max-import-bytes.
   */
  readonly maxBytes?: number
}

// Every option name, checked against the interfaces by the compiler: an option a call does not take (primary_key for
// primaryKey, a typo) is refused by name, as insert() and createTable() refuse theirs, never silently ignored.
const RUN_OPTIONS: Record<keyof ImportRunOptions, true> = {
  schema: true, strictSchema: true, createTable: true, primaryKey: true, batchSize: true, sampleSize: true, onBadRow: true,
  reportFile: true, onProgress: true, baseDir: true, signal: true,
}
const FILE_OPTIONS: Record<keyof ImportOptions, true> = { ...RUN_OPTIONS, format: true, delimiter: true, glob: true }
const DATA_OPTIONS: Record<keyof ImportDataOptions, true> = { ...FILE_OPTIONS, name: true, encoding: true, maxBytes: true }
const ON_BAD_ROW = ['abort', 'skip']

function checkOptions(call: string, options: ImportOptions, known: object): void {
  refuseUnknownOptions(call, options, Object.keys(known))
  // Any string other than 'abort' used to act as 'skip' (onBadRow: 'stop' dropped bad rows).
  if (options.onBadRow !== undefined && !ON_BAD_ROW.includes(options.onBadRow)) {
    throw invalid('INVALID_ARGUMENT', `${call}: onBadRow must be 'abort' or 'skip', got ${JSON.stringify(String(options.onBadRow))}`, { option: 'onBadRow' })
  }
}

const EXTENSIONS: Record<string, ImportFormat> = {
  csv: 'csv', tsv: 'tsv', tab: 'tsv', json: 'json', jsonl: 'jsonl', ndjson: 'jsonl', parquet: 'parquet', pq: 'parquet',
}

export function formatOf(path: string): ImportFormat | undefined {
  const base = path.replace(/\.(gz)$/i, '')
  const dot = base.lastIndexOf('.')
  const ext = base.slice(dot + 1).toLowerCase()
  // Own keys only: a file named 'x.constructor' has no format (the prototype's would have reached the CSV reader).
  return dot < 0 || !Object.hasOwn(EXTENSIONS, ext) ? undefined : EXTENSIONS[ext]
}

/**
 * Imports a CSV/TSV, JSON (array or lines), Parquet file, or a folder of media files into a table, creating the
 * table from inferred types when it does not exist. All or nothing unless onBadRow is 'skip'.
 */
export async function importFile(db: Tessera, tablePath: string, file: string, options: ImportOptions = {}): Promise<ImportResult> {
  checkOptions('importFile', options, FILE_OPTIONS)
  // A format given from outside TypeScript (a CLI flag, a JSON option) may be any string: one not listed is refused,
  // where it used to reach the CSV reader and import whatever that made of the file.
  if (options.format !== undefined && !(IMPORT_FORMATS as readonly unknown[]).includes(options.format)) {
    throw invalid('INVALID_ARGUMENT', `unknown import format ${JSON.stringify(String(options.format))}; use one of ${IMPORT_FORMATS.join(', ')} ('media' for a folder of media files)`, { file })
  }
  let isDir: boolean
  try {
    isDir = statSync(file).isDirectory()
  } catch {
    throw invalid('INVALID_ARGUMENT', `cannot import '${file}': no such file or directory`, { file })
  }
  const format = options.format ?? (isDir ? 'media' : formatOf(file))
  if (!format) throw invalid('INVALID_ARGUMENT', `cannot tell the format of '${file}' from its extension; pass format: 'csv' | 'tsv' | 'json' | 'jsonl' | 'parquet'`, { file })
  if (format === 'media') {
    if (!isDir) throw invalid('INVALID_ARGUMENT', `format 'media' imports a folder; '${file}' is a file`, { file })
    return runImport(db, tablePath, mediaFolderSource(file, options.glob ? { glob: options.glob } : {}), options)
  }
  if (isDir) throw invalid('INVALID_ARGUMENT', `'${file}' is a folder; pass format: 'media' (or omit format) to import its files`, { file })
  // Parquet is read from its footer: a compressed one is decompressed into a temp file first, as a streamed upload is.
  if (format === 'parquet' && /\.gz$/i.test(file)) return withParquet(await parquetBody(fileInput(file)), (src) => runImport(db, tablePath, src, { baseDir: dirname(resolve(file)), ...options }))
  if (format === 'parquet') return withParquet(await parquetFile(file), (src) => runImport(db, tablePath, src, { baseDir: dirname(resolve(file)), ...options }))
  return runImport(db, tablePath, await textSource(fileInput(file), format, options), { baseDir: dirname(resolve(file)), ...options })
}

/**
 * Imports a body held in memory or arriving as a stream (an HTTP upload): `format` is required. Parquet bodies
 * that arrive as streams are spooled to a temp file first, because Parquet is read from its footer.
 */
export async function importData(db: Tessera, tablePath: string, body: ImportBody, options: ImportDataOptions): Promise<ImportResult> {
  checkOptions('importData', options, DATA_OPTIONS)
  if (options.encoding !== undefined && options.encoding !== 'gzip' && options.encoding !== 'identity') {
    throw invalid('INVALID_ARGUMENT', `unknown encoding ${JSON.stringify(String(options.encoding))}; an upload may be gzip-compressed, or not at all (identity)`)
  }
  const { maxBytes } = options
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
    throw invalid('INVALID_ARGUMENT', `importData: maxBytes must be a positive integer, got ${JSON.stringify(maxBytes)}`, { option: 'maxBytes' })
  }
  const name = options.name ?? 'upload'
  const sent = bodyInput(body, name)
  const read = options.encoding === 'gzip' ? { name, chunks: () => gunzipped(sent.chunks(), name) } : sent
  const input = maxBytes === undefined ? read : capped(read, maxBytes, options.encoding === 'gzip' ? ' once decompressed' : '')
  // A body of known size over the limit is refused before a record is read (a Parquet body in memory is never
  // streamed through the count).
  if (maxBytes !== undefined && options.encoding !== 'gzip' && sent.size !== undefined && sent.size > maxBytes) throw overLimit(name, maxBytes)
  if (options.format === 'parquet') {
    const bytes = options.encoding === 'gzip' ? undefined : body instanceof Uint8Array ? body : body instanceof ArrayBuffer ? new Uint8Array(body) : undefined
    return withParquet(await parquetBody(input, bytes), (src) => runImport(db, tablePath, src, options))
  }
  // Not `in` an object literal: that also holds 'constructor', 'toString' and the other prototype keys.
  if (!(['csv', 'tsv', 'json', 'jsonl'] as unknown[]).includes(options.format)) {
    throw invalid('INVALID_ARGUMENT', `unknown import format '${String(options.format)}'; use csv, tsv, json, jsonl or parquet`)
  }
  return runImport(db, tablePath, await textSource(input, options.format, options), options)
}

async function textSource(input: ByteInput, format: 'csv' | 'tsv' | 'json' | 'jsonl', options: ImportOptions): Promise<RecordSource> {
  if (format === 'json' || format === 'jsonl') return jsonSource(input)
  return csvSource(input, { delimiter: options.delimiter ?? (format === 'tsv' ? '\t' : ','), skipBad: options.onBadRow === 'skip' })
}

async function withParquet<T>(input: ParquetInput, fn: (src: RecordSource) => Promise<T>): Promise<T> {
  try {
    return await fn(await parquetSource(input))
  } finally {
    await input.close()
  }
}

export type { ImportBody } from './bytes.ts'
export type { ImportProblem, ImportProgress, ImportResult, OnBadRow } from './run.ts'
export { mediaKindOf } from './media-folder.ts'
