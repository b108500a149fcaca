import { opendir, stat } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import type { MediaKind } from '../../types/index.ts'
import { globToRegExp } from './glob.ts'
import type { RecordSource, SourceRecord } from './source.ts'
import { inBatches } from './source.ts'

// A folder of media files as rows: one per file, with its absolute path (a media reference), size, modification
// time and media type by extension. Files are walked lazily in sorted order, so a huge folder streams like a file.

const KINDS: Record<string, MediaKind> = {}
for (const e of ['jpg', 'jpeg', 'png', 'gif', 'webp', 'bmp', 'tif', 'tiff', 'heic', 'avif', 'svg']) KINDS[e] = 'image'
for (const e of ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v', 'mpg', 'mpeg']) KINDS[e] = 'video'
for (const e of ['mp3', 'wav', 'flac', 'ogg', 'oga', 'm4a', 'aac', 'opus']) KINDS[e] = 'audio'
for (const e of ['pdf', 'txt', 'md', 'html', 'htm', 'docx', 'doc', 'pptx', 'xlsx', 'epub', 'rtf']) KINDS[e] = 'document'

export function mediaKindOf(path: string): MediaKind | undefined {
  const dot = path.lastIndexOf('.')
  return dot < 0 ? undefined : KINDS[path.slice(dot + 1).toLowerCase()]
}

export interface MediaFolderOptions {
  /** Only files whose path relative to the folder matches ('**\/*.jpg'); default: every media file. */
  readonly glob?: string
  /** Type of the `path` column (default: the media kind when every sampled file has one kind, else 'string'). */
  readonly pathType?: string
}

export const MEDIA_COLUMNS = ['path', 'name', 'size', 'mtime', 'mediaType'] as const

export function mediaFolderSource(root: string, options: MediaFolderOptions = {}): RecordSource {
  const match = options.glob ? globToRegExp(options.glob) : undefined
  let files = 0
  async function* walk(dir: string): AsyncGenerator<string> {
    const entries: { name: string; dir: boolean }[] = []
    for await (const d of await opendir(dir)) {
      if (d.name.startsWith('.')) continue
      if (d.isDirectory()) entries.push({ name: d.name, dir: true })
      else if (d.isFile()) entries.push({ name: d.name, dir: false })
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const full = join(dir, e.name)
      if (e.dir) yield* walk(full)
      else yield full
    }
  }
  // Absolute: a path as given ('imgs') would be stored relative to this process's working directory, which the
  // server or a later reader of the row does not share (a media column resolves it; a string column kept it as typed).
  const base = resolve(root)
  async function* records(): AsyncGenerator<SourceRecord> {
    for await (const full of walk(base)) {
      const rel = relative(base, full).split(sep).join('/')
      const kind = mediaKindOf(rel)
      if (match ? !match.test(rel) : !kind) continue
      const st = await stat(full)
      files++
      yield { loc: files, values: { path: full, name: rel, size: st.size, mtime: st.mtime, mediaType: kind ?? null } }
    }
  }
  const types: Record<string, string> = { path: options.pathType ?? 'string', name: 'string', size: 'int', mtime: 'timestamp', mediaType: 'string?' }
  const typesFor = (sample: readonly Record<string, unknown>[]): Record<string, string> => {
    if (options.pathType) return types
    const kinds = new Set(sample.map((r) => r.mediaType))
    const only = kinds.size === 1 ? [...kinds][0] : undefined
    return typeof only === 'string' ? { ...types, path: only } : types
  }
  return { name: root, unit: 'row', text: false, columns: [...MEDIA_COLUMNS], types, typesFor, batches: inBatches(records()), bytesRead: () => files }
}
