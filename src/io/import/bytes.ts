import { createReadStream, statSync } from 'node:fs'
import { pipeline, Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { errorOf, invalid } from '../../errors.ts'

// Inputs as byte chunks: a file read in 1 MiB pieces, or an HTTP body (ReadableStream, Uint8Array, async iterable).
// Nothing here reads a whole file into memory.

export type ImportBody = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | AsyncIterable<Uint8Array>

export interface ByteInput {
  readonly name: string
  readonly size?: number
  chunks(): AsyncIterable<Uint8Array>
}

export function fileInput(path: string): ByteInput {
  // A .gz file (formatOf reads 'x.csv.gz' as CSV) is decompressed as it streams, a piece at a time. Its size on disk
  // is not the size of its text, so none is given (progress then counts bytes without a total).
  if (/\.gz$/i.test(path)) {
    statSync(path)
    return {
      name: path,
      chunks: () => gunzipped(createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>, path),
    }
  }
  return {
    name: path,
    size: statSync(path).size,
    chunks: () => createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
  }
}

/**
 * The decompressed bytes of gzip `compressed` (a .gz file, an upload with Content-Encoding: gzip), a piece at a
 * time; bytes that are not gzip (or cut short) fail naming the input.
 */
export async function* gunzipped(compressed: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<Uint8Array> {
  // pipeline, not pipe: an error of the input reaches the output too (pipe would leave it waiting).
  const out = pipeline(Readable.from(compressed), createGunzip({ chunkSize: 1 << 20 }), () => undefined)
  try {
    for await (const chunk of out as AsyncIterable<Uint8Array>) yield chunk
  } catch (e) {
    const code = (e as { code?: string }).code
    if (typeof code !== 'string' || !code.startsWith('Z_')) throw e
    throw invalid('INVALID_ARGUMENT', `${name}: not readable gzip (${(e as Error).message}); a .gz file or a gzip-encoded upload is decompressed as it is read`, { file: name })
  }
}

export function bodyInput(body: ImportBody, name: string): ByteInput {
  if (body instanceof ArrayBuffer) body = new Uint8Array(body)
  if (body instanceof Uint8Array) {
    const bytes = body
    return {
      name,
      size: bytes.byteLength,
      async *chunks() {
        for (let i = 0; i < bytes.byteLength; i += 1 << 20) yield bytes.subarray(i, i + (1 << 20))
      },
    }
  }
  if (typeof (body as ReadableStream).getReader === 'function') {
    const stream = body as ReadableStream<Uint8Array>
    return {
      name,
      async *chunks() {
        const reader = stream.getReader()
        try {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) return
            yield value
          }
        } finally {
          reader.releaseLock()
        }
      },
    }
  }
  const iterable = body as AsyncIterable<Uint8Array>
  return { name, chunks: () => iterable }
}

/**
 * `input` refused once it has given more than `maxBytes` (counted as read: after decompression for a gzip upload, so
 * a small compressed body cannot turn into rows or a Parquet spool file of any size). The import fails with
 * TOO_LARGE and writes nothing, as any failed import does.
 */
export function capped(input: ByteInput, maxBytes: number, how: string): ByteInput {
  return {
    ...input,
    async *chunks() {
      let n = 0
      for await (const c of input.chunks()) {
        n += c.byteLength
        if (n > maxBytes) throw overLimit(input.name, maxBytes, how)
        yield c
      }
    },
  }
}

export const overLimit = (name: string, maxBytes: number, how = '') =>
  errorOf('TOO_LARGE', `${name}: more than ${maxBytes} bytes${how} (limit); nothing was imported`, { file: name, limit: maxBytes })

/** Wraps a chunk source so progress can report bytes consumed. */
export function counted(input: ByteInput): { chunks: AsyncIterable<Uint8Array>; bytesRead: () => number } {
  let n = 0
  async function* gen() {
    for await (const c of input.chunks()) {
      n += c.byteLength
      yield c
    }
  }
  return { chunks: gen(), bytesRead: () => n }
}
