import { createReadStream } from 'node:fs'
import type { ByteRange } from './byte-range.ts'

/** A read slice as a plain Uint8Array over its bytes (no copy). */
const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

/**
 * A file as a response body, read a slice at a time as the client takes it, and its first slice (to sniff the type
 * from). Read whole, a 1 GB video took 1 GB of memory for each request that played it; a client that goes away
 * stops the reading.
 */
export async function fileBody(file: string, range?: ByteRange): Promise<{ head: Uint8Array; body: ReadableStream<Uint8Array> }> {
  const stream = createReadStream(file, { highWaterMark: 256 * 1024, ...(range ? { start: range.start, end: range.end } : {}) })
  const slices = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const first = await slices.next().catch((e: unknown) => {
    stream.destroy()
    throw e
  })
  const head = first.done ? new Uint8Array(0) : view(first.value)
  let sentHead = false
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true
        if (head.length > 0) return controller.enqueue(head)
      }
      const r = await slices.next()
      if (r.done) controller.close()
      else controller.enqueue(view(r.value))
    },
    cancel() {
      stream.destroy()
    },
  }, { highWaterMark: 0 })
  return { head, body }
}
