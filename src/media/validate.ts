import { readFile, stat } from 'node:fs/promises'
import { readFileHead } from './file-head.ts'
import { invalid, TesseraError } from '../errors.ts'
import { checkLocalRead, checkRemoteFetch } from './access.ts'
import type { MediaKind } from '../types/index.ts'
import type { MediaEnv } from './env.ts'
import { resolveMedia, short } from './env.ts'
import { probeAudio } from './audio-probe.ts'
import { findTool, runTool } from './ffmpeg.ts'
import { extensionOf, formatMediaRef, parseMediaRef } from './refs.ts'
import { dataUrlBytes } from './data-url.ts'
import { imageEndPresent } from './image-end.ts'
import { isText, sniff } from './sniff.ts'
import { flacDuration, wavInfo } from './wav.ts'

// Media validation: a value given for an image/video/audio/document column becomes one canonical text reference
// (absolute path, URL, or media:// for uploaded bytes); with 'on_write' the file is also opened and decoded, so a
// broken upload fails the insert, naming row and column, instead of failing every computed column later.

export interface MediaInfo {
  readonly format: string
  readonly width?: number
  readonly height?: number
  readonly durationSec?: number
  readonly pages?: number
}

export interface MediaValidationContext {
  readonly env: MediaEnv
  /** 'on_write' (default) decodes the file now; 'on_read' only normalizes the reference. */
  readonly mode?: 'on_write' | 'on_read'
  readonly row?: number
  readonly column?: string
  readonly table?: string
}

const HEAD_BYTES = 64 * 1024
const DOC_TEXT_EXT = new Set(['txt', 'md', 'markdown', 'html', 'htm', 'text', 'csv', 'json', 'xml'])

/** Normalizes (and with on_write, decodes) one media value; returns the reference to store. */
export async function validateMediaValue(kind: MediaKind, value: unknown, ctx: MediaValidationContext): Promise<string> {
  const where = ctx.row !== undefined || ctx.column !== undefined ? `row ${ctx.row ?? '?'}, column '${ctx.column ?? '?'}': ` : ''
  const fail = (msg: string, cause?: unknown): never => {
    // A refused local path stays FORBIDDEN (403), with the row and column added.
    const code = cause instanceof TesseraError && cause.code === 'FORBIDDEN' ? 'FORBIDDEN' : 'INVALID_MEDIA'
    throw new TesseraError(code, `${where}${msg}`, { ...(ctx.row !== undefined ? { row: ctx.row } : {}), ...(ctx.column ? { column: ctx.column } : {}) }, cause ? { cause } : undefined)
  }
  const onWrite = (ctx.mode ?? 'on_write') === 'on_write'
  let uploaded: ReturnType<typeof uploadedBytes>
  try {
    uploaded = uploadedBytes(value)
  } catch (e) {
    return fail((e as Error).message, e)
  }
  if (uploaded) {
    const found = sniff(uploaded.bytes.subarray(0, HEAD_BYTES))
    const ext = found?.ext ?? uploaded.ext ?? (kind === 'document' && isText(uploaded.bytes) ? 'txt' : '')
    if (onWrite && !ext) fail(`uploaded bytes (${uploaded.bytes.length} B) are not a recognised ${kind} format`)
    const ref = await ctx.env.store.put(uploaded.bytes, ext)
    if (onWrite) {
      try {
        await checkMediaFile(kind, await ctx.env.store.path(ref))
      } catch (e) {
        fail(`uploaded bytes are not a valid ${kind}: ${(e as Error).message}`, e)
      }
    }
    return ref
  }
  if (typeof value !== 'string' || value.length === 0) fail(`expected ${kind === 'image' || kind === 'audio' ? 'an' : 'a'} ${kind} reference (path, file:// or http(s) URL, media:// ref, data: URL) or bytes, got ${value === null ? 'null' : typeof value}`)
  const parsed = parseMediaRef(value as string)
  if (!parsed) return fail(`'${short(value as string)}' is not a path, file:// or http(s) URL, or media:// reference`)
  const ref = formatMediaRef(parsed)
  if (!onWrite) {
    // Validation waits for the read, but the caller may not be allowed to reference that file at all (on_write gets
    // the same check from resolveMedia below; doing it here too would resolve paths and look up hosts twice).
    try {
      if (parsed.kind === 'path') checkLocalRead(parsed.path)
      if (parsed.kind === 'url') await checkRemoteFetch(parsed.url)
    } catch (e) {
      fail((e as Error).message, e)
    }
    return ref
  }
  let file: string
  try {
    file = await resolveMedia(ref, ctx.env)
  } catch (e) {
    return fail((e as Error).message, e)
  }
  try {
    await checkMediaFile(kind, file)
  } catch (e) {
    fail(`${short(ref)} is not a valid ${kind}: ${(e as Error).message}`, e)
  }
  return ref
}

/** Decodes enough of a local file to be sure it is the given kind; returns what was learnt. */
export async function checkMediaFile(kind: MediaKind, file: string): Promise<MediaInfo> {
  const head = await readFileHead(file, HEAD_BYTES)
  const found = sniff(head)
  switch (kind) {
    case 'image': {
      // Loaded on first use: sharp is a native module that databases without images never need.
      const sharp = (await import('sharp')).default
      let m: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>
      try {
        m = await sharp(file).metadata()
      } catch (e) {
        throw invalid('INVALID_MEDIA', `sharp cannot decode it (${(e as Error).message})`)
      }
      if (!m.width || !m.height) throw invalid('INVALID_MEDIA', 'image has no dimensions')
      // metadata() reads only the header: a file cut short passed. Its end marker is read (cheap); where it is missing
      // or the format has none, the pixels are decoded, shrunk on load where the format allows (JPEG's DCT scaling),
      // with sharp's default strictness, the one every later read (thumbnail, width, embedding) uses.
      if ((await imageEndPresent(file, m.format ?? '')) !== true) {
        try {
          await sharp(file).resize(64, 64, { fit: 'inside' }).raw().toBuffer()
        } catch (e) {
          throw invalid('INVALID_MEDIA', `truncated or corrupt: sharp cannot decode its pixels (${(e as Error).message})`)
        }
      }
      return { format: m.format ?? found?.ext ?? 'unknown', width: m.width, height: m.height }
    }
    case 'audio': {
      if (found?.kind !== 'audio' && !(found?.kind === 'video' && found.ext === 'mp4')) throw invalid('INVALID_MEDIA', `not a recognised audio container (wav, mp3, ogg, flac, m4a)${found ? `; it looks like ${found.kind}/${found.ext}` : ''}`)
      // WAV is read by Tessera's own decoder, whose header check this is. Other containers: with ffprobe their
      // streams are read too (no audio stream, unreadable or cut short: refused); without it, as for video, the
      // container's magic bytes are all that is checked.
      if (found.ext === 'wav') {
        const wav = wavInfo(head, (await stat(file)).size)
        // A valid header over no audio (header only, or cut right after it) passed as 0 s: every reader got nothing.
        // Refused here, not in wavInfo, which also reads WAVs Tessera writes itself.
        if (wav.dataBytes === 0) throw invalid('INVALID_MEDIA', 'WAV data chunk holds no sample frame (header only, or cut short)')
        return { format: 'wav', durationSec: wav.durationSec }
      }
      const ffprobe = findTool('ffprobe')
      const probed = ffprobe ? await probeAudio(ffprobe, file) : undefined
      if (found.ext === 'flac') {
        const d = flacDuration(head)
        return d === undefined ? { format: 'flac' } : { format: 'flac', durationSec: d }
      }
      return { format: found.ext, ...(probed?.durationSec !== undefined ? { durationSec: probed.durationSec } : {}) }
    }
    case 'video': {
      if (found?.kind !== 'video') throw invalid('INVALID_MEDIA', `not a recognised video container (mp4, mov, webm, mkv, avi, ogv)${found ? `; it looks like ${found.kind}/${found.ext}` : ''}`)
      const ffprobe = findTool('ffprobe')
      if (!ffprobe) return { format: found.ext }
      return { format: found.ext, ...(await probeVideo(ffprobe, file)) }
    }
    case 'document': {
      const ext = extensionOf(file)
      if (found?.ext === 'pdf') {
        const { getDocumentProxy } = await import('unpdf')
        try {
          const pdf = await getDocumentProxy(new Uint8Array(await readFile(file)))
          const pages = pdf.numPages
          await pdf.cleanup()
          return { format: 'pdf', pages }
        } catch (e) {
          throw invalid('INVALID_MEDIA', `unpdf cannot read the PDF (${(e as Error).message})`)
        }
      }
      if (found?.ext === 'html') return { format: 'html' }
      if (found) throw invalid('INVALID_MEDIA', `a ${found.kind}/${found.ext} file is not a document (pdf, html, markdown, text)`)
      if (!isText(await readFile(file))) throw invalid('INVALID_MEDIA', 'not a PDF and not UTF-8 text')
      return { format: DOC_TEXT_EXT.has(ext) ? (ext === 'htm' ? 'html' : ext === 'markdown' ? 'md' : ext) : 'txt' }
    }
  }
}

async function probeVideo(ffprobe: string, file: string): Promise<Partial<MediaInfo>> {
  let out: Uint8Array
  try {
    out = await runTool(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:format=duration', '-of', 'json', file])
  } catch (e) {
    throw invalid('INVALID_MEDIA', `ffprobe cannot read it (${(e as Error).message})`)
  }
  const j = JSON.parse(new TextDecoder().decode(out)) as { streams?: { width?: number; height?: number }[]; format?: { duration?: string } }
  const s = j.streams?.[0]
  if (!s) throw invalid('INVALID_MEDIA', 'ffprobe finds no video stream')
  return { ...(s.width ? { width: s.width } : {}), ...(s.height ? { height: s.height } : {}), ...(j.format?.duration ? { durationSec: Number(j.format.duration) } : {}) }
}


/** Bytes given directly (Uint8Array, ArrayBuffer, Node Buffer) or as a data: URL (RFC 2397; base64 over HTTP). */
export function uploadedBytes(value: unknown): { bytes: Uint8Array; ext?: string } | undefined {
  if (value instanceof Uint8Array) return { bytes: value }
  if (value instanceof ArrayBuffer) return { bytes: new Uint8Array(value) }
  // A malformed data: URL throws INVALID_MEDIA (dataUrlBytes): it is no path or URL to fall back on either.
  if (typeof value === 'string' && /^data:/i.test(value)) return dataUrlBytes(value)
  return undefined
}
