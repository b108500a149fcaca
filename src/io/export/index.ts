import { existsSync, statSync } from 'node:fs'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { invalid, refuseUnknownOptions } from '../../errors.ts'
import { currentMediaEnv, parseMediaRef, resolveMedia } from '../../media/index.ts'
import type { MediaEnv } from '../../media/index.ts'
import type { Query } from '../../query/index.ts'
import type { ColumnType } from '../../types/index.ts'
import { formatType, isMedia, parseType } from '../../types/index.ts'
import { ParquetSinkWriter } from './parquet.ts'
import type { Sink } from './sink.ts'
import { fileSink, streamSink, TextBuffer } from './sink.ts'
import { csvCell, csvHeader, jsonLine } from './text.ts'

// Any query result (or a whole table) to JSON Lines, CSV or Parquet, read with Query.stream() page by page (pinned
// at one version) and written as it goes. Media columns are written as their references, or copied into a folder
// beside the export with the cells rewritten to the copies' paths.

export type ExportFormat = 'jsonl' | 'csv' | 'parquet'

export interface ExportProgress {
  readonly rows: number
  readonly bytes: number
}

export interface ExportOptions {
  /** Default: from the target file's extension. Required for a stream target. */
  readonly format?: ExportFormat
  /** Rows per page read (and per Parquet row group); default 10,000. */
  readonly batchSize?: number
  /** 'path' (default): media cells as stored. 'copy': files copied into mediaDir, cells point at the copies. */
  readonly media?: 'path' | 'copy'
  /** Where copies go (default: '<export file name>_media' beside a file target; required for a stream target). */
  readonly mediaDir?: string
  /**
   * Turns a stored reference into a local file to copy; undefined leaves it to the default: local paths, file://
   * URLs, and refs of a media store (media://: uploaded bytes, data: URLs, computed media) from `mediaEnv`.
   */
  readonly resolveMedia?: (ref: string) => string | undefined | Promise<string | undefined>
  /** The media stores whose refs are copied (default: the open databases' ones, as queries resolve them). */
  readonly mediaEnv?: MediaEnv
  readonly onProgress?: (p: ExportProgress) => void
  readonly signal?: AbortSignal
}

export interface ExportResult {
  readonly format: ExportFormat
  readonly rows: number
  readonly bytes: number
  readonly columns: readonly { name: string; type: string }[]
  readonly mediaCopied: number
  /** Media references that could not be resolved to a local file and were written as they are. */
  readonly mediaNotCopied: number
}

// Every option name, checked against ExportOptions by the compiler: one the call does not take is refused by name.
const EXPORT_OPTIONS: Record<keyof ExportOptions, true> = {
  format: true, batchSize: true, media: true, mediaDir: true, resolveMedia: true, mediaEnv: true, onProgress: true, signal: true,
}

/** Anything with a query: a Table or a Query. */
export type Exportable = Query | { query(): Query }

const toQuery = (x: Exportable): Query => ('query' in x && typeof x.query === 'function' ? x.query() : (x as Query))

export function exportFormatOf(path: string): ExportFormat | undefined {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase()
  return ext === 'jsonl' || ext === 'ndjson' ? 'jsonl' : ext === 'csv' ? 'csv' : ext === 'parquet' || ext === 'pq' ? 'parquet' : undefined
}

/** Writes a query's result to a file path or a WritableStream. */
export async function exportQuery(source: Exportable, target: string | WritableStream<Uint8Array>, options: ExportOptions = {}): Promise<ExportResult> {
  refuseUnknownOptions('exportQuery', options, Object.keys(EXPORT_OPTIONS))
  // Anything but 'copy' used to write the refs as stored, so media: 'cpoy' exported without copying and without a word.
  if (options.media !== undefined && options.media !== 'path' && options.media !== 'copy') {
    throw invalid('INVALID_ARGUMENT', `exportQuery: media must be 'path' or 'copy', got ${JSON.stringify(String(options.media))}`, { option: 'media' })
  }
  if (options.mediaDir !== undefined && options.media !== 'copy') {
    throw invalid('INVALID_ARGUMENT', `exportQuery: mediaDir is where media: 'copy' puts the copies; without media: 'copy' nothing is copied`, { option: 'mediaDir' })
  }
  const isFile = typeof target === 'string'
  const format = options.format ?? (isFile ? exportFormatOf(target) : undefined)
  if (!format) throw invalid('INVALID_ARGUMENT', `cannot tell the export format${isFile ? ` of '${target}'` : ''}; pass format: 'jsonl' | 'csv' | 'parquet'`)
  if (!['jsonl', 'csv', 'parquet'].includes(format)) throw invalid('INVALID_ARGUMENT', `unknown export format '${format}'; use jsonl, csv or parquet`)
  let mediaDir: string | undefined
  if (options.media === 'copy') {
    mediaDir = options.mediaDir ?? (isFile ? `${target.replace(/\.[^./]*$/, '')}_media` : undefined)
    if (!mediaDir) throw invalid('INVALID_ARGUMENT', `media: 'copy' to a stream needs mediaDir`)
    mediaDir = resolve(mediaDir)
  }
  // Checked before anything is written: the file itself is opened lazily, so a missing folder used to surface only
  // at the first write, after media had been copied beside it.
  if (isFile) checkFolder(dirname(resolve(target)), `cannot export to '${target}'`)
  const query = toQuery(source)
  const columns = (await query.limit(0).collect()).columns.map((c) => ({ name: c.name, type: parseType(c.type) }))
  const sink = isFile ? fileSink(target) : streamSink(target)
  const media = mediaDir ? new MediaCopier(mediaDir, isFile ? dirname(resolve(target)) : undefined, options.resolveMedia, options.mediaEnv) : undefined
  try {
    const rows = await writeAll(query, columns, format, sink, media, options)
    await sink.close()
    return {
      format, rows, bytes: sink.bytesWritten, columns: columns.map((c) => ({ name: c.name, type: formatType(c.type) })),
      mediaCopied: media?.copied ?? 0, mediaNotCopied: media?.notCopied ?? 0,
    }
  } catch (e) {
    await sink.abort(e)
    // A failed export leaves nothing behind: not its partial file, and not the media copies it made.
    await media?.undo().catch(() => undefined)
    throw e
  }
}

function checkFolder(dir: string, what: string): void {
  if (!existsSync(dir)) throw invalid('INVALID_ARGUMENT', `${what}: folder '${dir}' does not exist (create it first)`, { path: dir })
  if (!statSync(dir).isDirectory()) throw invalid('INVALID_ARGUMENT', `${what}: '${dir}' is not a folder`, { path: dir })
}

/** The export as a ReadableStream (an HTTP response body); errors surface as a stream error. */
export function exportStream(source: Exportable, options: ExportOptions & { format: ExportFormat }): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(undefined, undefined, { highWaterMark: 16 })
  exportQuery(source, writable, options).catch(() => undefined)
  return readable
}

async function writeAll(query: Query, columns: { name: string; type: ColumnType }[], format: ExportFormat, sink: Sink, media: MediaCopier | undefined, options: ExportOptions): Promise<number> {
  const batchSize = options.batchSize ?? 10_000
  const mediaCols = columns.filter((c) => isMedia(c.type)).map((c) => c.name)
  let n = 0
  let page: Record<string, unknown>[] = []
  const text = format === 'parquet' ? undefined : new TextBuffer(sink)
  const pq = format === 'parquet' ? new ParquetSinkWriter(sink, columns) : undefined
  if (format === 'csv') await text!.push(csvHeader(columns.map((c) => c.name)))

  const writePage = async () => {
    if (media) for (const r of page) for (const c of mediaCols) r[c] = await media.copy(r[c], c)
    if (pq) await pq.writeRows(page)
    else if (format === 'jsonl') {
      for (const r of page) await text!.push(jsonLine(columns, r) + '\n')
    } else {
      for (const r of page) await text!.push(columns.map((c) => csvCell(c.type, r[c.name])).join(',') + '\n')
    }
    n += page.length
    page = []
    if (text) await text.flush()
    options.onProgress?.({ rows: n, bytes: sink.bytesWritten })
  }

  for await (const row of query.stream({ batchSize })) {
    options.signal?.throwIfAborted()
    page.push({ ...row })
    if (page.length >= batchSize) await writePage()
  }
  if (page.length > 0 || n === 0) await writePage()
  if (pq) await pq.finish()
  return n
}

class MediaCopier {
  readonly #dir: string
  readonly #relativeTo: string | undefined
  readonly #resolve: ((ref: string) => string | undefined | Promise<string | undefined>) | undefined
  readonly #env: MediaEnv | undefined
  readonly #done = new Map<string, string>()
  readonly #names = new Set<string>()
  /** Whether the folder was there before this export (undo then removes only the copies, not the folder). */
  readonly #existed: boolean
  readonly #files: string[] = []
  copied = 0
  notCopied = 0

  constructor(dir: string, relativeTo: string | undefined, resolveRef: ExportOptions['resolveMedia'], env: MediaEnv | undefined) {
    this.#dir = dir
    this.#relativeTo = relativeTo
    this.#resolve = resolveRef
    this.#env = env
    this.#existed = existsSync(dir)
  }

  async copy(ref: unknown, column: string): Promise<unknown> {
    if (typeof ref !== 'string' || ref === '') return ref
    const key = `${column}\u0000${ref}`
    const prior = this.#done.get(key)
    if (prior) return prior
    const local = (await this.#resolve?.(ref)) ?? localPath(ref) ?? (await storedFile(ref, this.#env))
    if (!local) {
      this.notCopied++
      return ref
    }
    const folder = join(this.#dir, column)
    await mkdir(folder, { recursive: true })
    let name = basename(local)
    for (let i = 1; this.#names.has(`${column}/${name}`); i++) name = `${i}_${basename(local)}`
    this.#names.add(`${column}/${name}`)
    const dest = join(folder, name)
    this.#files.push(dest)
    await copyFile(local, dest)
    this.copied++
    const cell = this.#relativeTo ? relative(this.#relativeTo, dest).split('\\').join('/') : dest
    this.#done.set(key, cell)
    return cell
  }

  /** Removes what this export copied: the whole folder when the export made it, else the copied files. */
  async undo(): Promise<void> {
    if (!this.#existed) await rm(this.#dir, { recursive: true, force: true })
    else for (const f of this.#files) await rm(f, { force: true })
  }
}

function localPath(ref: string): string | undefined {
  if (/^file:\/\//i.test(ref)) return fileURLToPath(ref)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) return undefined
  return isAbsolute(ref) ? ref : resolve(ref)
}

/**
 * The local file of a media-store ref (media://<sha256>.<ext>: uploaded bytes, a data: URL stored on insert, a
 * computed image), from the store that holds it; undefined for anything else (an http(s) URL is written as it is).
 * A store ref whose bytes are gone fails the export naming the ref, as a missing local file does.
 */
async function storedFile(ref: string, env: MediaEnv | undefined): Promise<string | undefined> {
  if (parseMediaRef(ref)?.kind !== 'store') return undefined
  return resolveMedia(ref, env ?? currentMediaEnv())
}
