import { createReadStream } from 'node:fs'
import { invalid } from '../errors.ts'
import { MAX_RECORD_CHARS, spoolToTempFile } from '../io/index.ts'
import type { RecordWatch } from '../io/index.ts'
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
  /**
   * The spool stopped where `watch` found a record past the import's limit: what came is read back, and the import
   * fails on that record by its line (had it not, the end of what came fails it: nothing of a cut upload is imported).
   */
  readonly cut: boolean
}

/**
 * Writes `body` to a temporary file; a body cut off before its end is the client's 400, and one of more than
 * `maxBytes` (the server's --max-import-bytes, which the import counts again after decompression) its 413: neither
 * leaves a file. `watch` (the upload's format's, src/io/import/record-watch.ts) sees its text as it arrives: a record
 * past the import's limit stops the spool there (an unclosed quote fails soon, not at the end of the upload).
 */
export async function spoolUpload(body: ReadableStream<Uint8Array>, maxBytes: number, name: string, watch?: RecordWatch): Promise<SpooledUpload> {
  let cut = false
  async function* checked(): AsyncGenerator<Uint8Array> {
    const reader = body.getReader()
    const text = new TextDecoder()
    let written = 0
    for (;;) {
      const { value, done } = await reader.read().catch((e: unknown) => { throw bodyReadFailed(e, 'nothing was imported') })
      if (done) return
      written += value.byteLength
      if (written > maxBytes) throw tooLarge(`${name}: more than ${maxBytes} bytes (limit); nothing was imported`, { file: name, limit: maxBytes })
      yield value
      if (watch?.feed(text.decode(value, { stream: true }))) {
        cut = true
        await reader.cancel().catch(() => undefined)
        return
      }
    }
  }
  const file = await spoolToTempFile(checked())
  const read = () => createReadStream(file.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>
  return { chunks: cut ? () => thenRefused(read(), name) : read, remove: file.remove, cut }
}

/** The bytes of a cut spool, then the refusal the import's own parser would have made at the long record. */
async function* thenRefused(chunks: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<Uint8Array> {
  yield* chunks
  throw invalid('INVALID_ROW', `${name}: a record is longer than ${MAX_RECORD_CHARS} characters (the limit for one record); the upload was read no further; nothing was imported`, { file: name, limit: MAX_RECORD_CHARS })
}
