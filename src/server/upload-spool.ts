import { createReadStream, createWriteStream } from 'node:fs'
import type { WriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bodyReadFailed } from './json-body.ts'
import { tooLarge } from './request.ts'

// An upload to import is written to a temporary file as it arrives, and imported from there once it is complete. An
// import holds the table's other writes from its first batch to its end (its rows are one version: the catalog's bulk
// load); read straight from the request, it lasted as long as the client took to send, so a stalled or trickling
// upload held every other write of the table for as long as the client liked. From the file it lasts as long as the
// store takes. (A Parquet upload is spooled by the import itself, which reads the file's footer first.)

export interface SpooledUpload {
  /** The bytes as they were sent, read back a slice at a time. */
  chunks(): AsyncIterable<Uint8Array>
  /** Removes the file (once the import is done with it). */
  remove(): Promise<void>
}

/**
 * Writes `body` to a temporary file; a body cut off before its end is the client's 400, and one of more than
 * `maxBytes` (the server's --max-import-bytes, which the import counts again after decompression) its 413: neither
 * leaves a file.
 */
export async function spoolUpload(body: ReadableStream<Uint8Array>, maxBytes: number, name: string): Promise<SpooledUpload> {
  const path = join(tmpdir(), `tessera-upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`)
  const out = createWriteStream(path)
  const remove = () => rm(path, { force: true })
  let written = 0
  try {
    const reader = body.getReader()
    for (;;) {
      const { value, done } = await reader.read().catch((e: unknown) => { throw bodyReadFailed(e) })
      if (done) break
      written += value.byteLength
      if (written > maxBytes) throw tooLarge(`${name}: more than ${maxBytes} bytes (limit); nothing was imported`, { file: name, limit: maxBytes })
      if (!out.write(value)) await drained(out)
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())))
  } catch (e) {
    // Writes still queued fail once the stream is destroyed: their error is this failure's, not another to throw.
    out.on('error', () => undefined)
    out.destroy()
    await remove()
    throw e
  }
  return { chunks: () => createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>, remove }
}

/** Resolves once the file has taken what it buffered; rejects if writing it failed (a full disk), never waits forever. */
function drained(out: WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (e?: Error) => {
      out.off('drain', done)
      out.off('error', done)
      if (e) reject(e)
      else resolve()
    }
    out.on('drain', done)
    out.on('error', done)
  })
}
