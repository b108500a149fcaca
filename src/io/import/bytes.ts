import { createReadStream, statSync } from 'node:fs'

// Inputs as byte chunks: a file read in 1 MiB pieces, or an HTTP body (ReadableStream, Uint8Array, async iterable).
// Nothing here reads a whole file into memory.

export type ImportBody = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | AsyncIterable<Uint8Array>

export interface ByteInput {
  readonly name: string
  readonly size?: number
  chunks(): AsyncIterable<Uint8Array>
}

export function fileInput(path: string): ByteInput {
  return {
    name: path,
    size: statSync(path).size,
    chunks: () => createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
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
