import { createWriteStream } from 'node:fs'
import type { WriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// A stream of bytes written to a temporary file, for what must be read after the stream ends: a Parquet body (read
// from its footer) and an HTTP upload (imported once complete, so a slow client never holds the table).

export interface TempFile {
  readonly path: string
  /** Removes the file (once whoever reads it is done). */
  remove(): Promise<void>
}

/** Writes `chunks` to a new temporary file; a failure (of the chunks, or of the disk) leaves no file. */
export async function spoolToTempFile(chunks: AsyncIterable<Uint8Array>, ext = ''): Promise<TempFile> {
  const path = join(tmpdir(), `tessera-upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}${ext}`)
  const out = createWriteStream(path)
  const remove = () => rm(path, { force: true })
  try {
    for await (const chunk of chunks) if (!out.write(chunk)) await drained(out)
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())))
  } catch (e) {
    // Writes still queued fail once the stream is destroyed: their error is this failure's, not another to throw.
    out.on('error', () => undefined)
    out.destroy()
    await remove()
    throw e
  }
  return { path, remove }
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
