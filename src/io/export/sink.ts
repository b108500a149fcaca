import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'

// Where exported bytes go: a file (written to '<file>.partial' and renamed at the end, so a failed export never
// leaves a truncated file under the real name) or a WritableStream (an HTTP response body). Writes respect
// backpressure, so a slow consumer slows the query instead of filling memory.

export interface Sink {
  write(bytes: Uint8Array): Promise<void>
  close(): Promise<void>
  abort(reason: unknown): Promise<void>
  readonly bytesWritten: number
}

export function fileSink(path: string): Sink {
  const partial = `${path}.partial`
  const out = createWriteStream(partial)
  let failed: Error | undefined
  out.on('error', (e) => (failed = e))
  let n = 0
  return {
    get bytesWritten() {
      return n
    },
    async write(bytes) {
      if (failed) throw failed
      n += bytes.byteLength
      // Each wait removes both of its listeners when either fires (left behind, one 'error' listener per wait
      // piled up on large exports: MaxListenersExceededWarning).
      if (!out.write(bytes)) await new Promise<void>((resolve, reject) => {
        const onDrain = () => { out.off('error', onError); resolve() }
        const onError = (e: Error) => { out.off('drain', onDrain); reject(e) }
        out.once('drain', onDrain)
        out.once('error', onError)
      })
    },
    async close() {
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())))
      if (failed) throw failed
      await rename(partial, path)
    },
    async abort() {
      out.destroy()
      await rm(partial, { force: true })
    },
  }
}

export function streamSink(stream: WritableStream<Uint8Array>): Sink {
  const w = stream.getWriter()
  let n = 0
  return {
    get bytesWritten() {
      return n
    },
    async write(bytes) {
      n += bytes.byteLength
      await w.ready
      await w.write(bytes)
    },
    async close() {
      await w.close()
    },
    async abort(reason) {
      await w.abort(reason).catch(() => undefined)
    },
  }
}

/** Collects text and writes it in ~1 MiB pieces (one write per row would be slow). */
export class TextBuffer {
  readonly #sink: Sink
  readonly #encoder = new TextEncoder()
  #parts: string[] = []
  #size = 0

  constructor(sink: Sink) {
    this.#sink = sink
  }

  async push(s: string): Promise<void> {
    this.#parts.push(s)
    this.#size += s.length
    if (this.#size >= 1 << 20) await this.flush()
  }

  async flush(): Promise<void> {
    if (this.#size === 0) return
    const text = this.#parts.join('')
    this.#parts = []
    this.#size = 0
    await this.#sink.write(this.#encoder.encode(text))
  }
}
