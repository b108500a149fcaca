import type { MiddlewareHandler } from 'hono'
import { TesseraError } from '../errors.ts'
import { errorBody, streamErrorRecord } from './errors.ts'

// Graceful shutdown. On SIGTERM the server stops taking work at once (every new request, /health included, answers
// 503: a load balancer or Kubernetes takes the instance out of rotation), lets the requests in flight finish, and
// only then closes the store. A write that has not finished by the drain timeout is cut off with the store: a
// staged write then leaves nothing visible (its rows are removed at the next open).
//
// A streaming response (an NDJSON query, an export, a large JSON answer sent in slices) is in flight until its body
// has been sent, not when its handler returned the Response: its body is wrapped, and the count follows the body (its
// end, its failure, or the client going away). Past the drain timeout, cutOff() ends each stream still being sent
// with an error record in its own format, code UNAVAILABLE (retryable), instead of leaving it to fail when the store
// closes under it. An event stream (a job's progress) is a watch, not work: it ends as soon as the drain starts.

/** How a stream is ended early: the record its format takes, or none (the transfer is then aborted). */
type StreamKind = 'ndjson' | 'csv' | 'sse' | 'other'

/** Bodies the routes mark as streamed beyond what their content type tells (a large JSON answer sent in slices). */
const streamedBodies = new WeakSet<ReadableStream>()

/** Marks a response body as a stream the drain waits for (its content type is not one of the streaming formats). */
export function streamedBody<T extends ReadableStream>(body: T): T {
  streamedBodies.add(body)
  return body
}

function streamKind(res: Response): StreamKind | undefined {
  const type = (res.headers.get('content-type') ?? '').toLowerCase()
  if (type.startsWith('application/x-ndjson')) return 'ndjson'
  if (type.startsWith('text/csv')) return 'csv'
  if (type.startsWith('text/event-stream')) return 'sse'
  if (type.startsWith('application/vnd.apache.parquet')) return 'other'
  return res.body && streamedBodies.has(res.body) ? 'other' : undefined
}

export const SHUTDOWN_MESSAGE = 'the server is shutting down; retry on another instance or after it restarts'
const CUT_MESSAGE = 'the server is shutting down and its drain timeout passed before this stream ended: it is incomplete; retry on another instance or after it restarts'

/** The last bytes of a stream cut off by the shutdown; undefined where its format has no error record. */
function cutRecord(kind: StreamKind, endsWithNewline: boolean): Uint8Array | undefined {
  const { error } = errorBody('UNAVAILABLE', CUT_MESSAGE)
  const nl = endsWithNewline ? '' : '\n'
  // The records the routes write when a stream fails after its first byte (streamErrorRecord).
  if (kind === 'ndjson') return new TextEncoder().encode(nl + streamErrorRecord('jsonl', error))
  if (kind === 'csv') return new TextEncoder().encode(streamErrorRecord('csv', error))
  if (kind === 'sse') return new TextEncoder().encode(`${nl}event: error\ndata: ${JSON.stringify(error)}\n\n`)
  return undefined
}

interface Tracked {
  readonly kind: StreamKind
  /** Ends the stream early with its format's error record; resolves once it has ended (sent, or the client gone). */
  cut(): Promise<void>
}

export class Drain {
  #draining = false
  #inflight = 0
  #idle: (() => void)[] = []
  readonly #streams = new Set<Tracked>()

  get draining(): boolean {
    return this.#draining
  }

  /** Requests in flight, streaming responses whose body is still being sent included. */
  get inflight(): number {
    return this.#inflight
  }

  /** Refuse new requests from now on; resolves when those in flight have finished, or false after timeoutMs. */
  async start(timeoutMs: number): Promise<boolean> {
    this.#draining = true
    // A watch (a job's progress events) would hold the drain to its timeout: it ends now (the client can reconnect
    // elsewhere; a reconnect here gets 503).
    for (const s of this.#streams) if (s.kind === 'sse') void s.cut()
    if (this.#inflight === 0) return true
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = await Promise.race([
      new Promise<boolean>((resolve) => this.#idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ])
    clearTimeout(timer)
    return done
  }

  /**
   * Past the drain timeout: ends every stream still being sent with a retryable error record (UNAVAILABLE) and waits,
   * for up to graceMs, until those records have been taken by the server (a client that reads nothing is not waited
   * for longer). Resolves with the number of streams cut.
   */
  async cutOff(graceMs = 2_000): Promise<number> {
    const streams = [...this.#streams]
    if (streams.length === 0) return 0
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.all(streams.map((s) => s.cut())),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ])
    clearTimeout(timer)
    // The last bytes are handed to the socket after the stream's final read: a moment for them to go out.
    await new Promise<void>((resolve) => setTimeout(resolve, 50))
    return streams.length
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      if (this.#draining) {
        if (c.req.path === '/health') return c.json({ status: 'draining' }, 503)
        return c.json(errorBody('UNAVAILABLE', SHUTDOWN_MESSAGE), 503, { connection: 'close' })
      }
      this.#inflight++
      let handedOver = false
      try {
        await next()
        const body = c.res.body
        const kind = body && c.req.method !== 'HEAD' ? streamKind(c.res) : undefined
        if (body && kind) {
          // From here the body counts the request down: when it has been sent, has failed, or the client has gone.
          const tracked = this.#track(body, kind, c.req.raw.signal)
          handedOver = true
          c.res = new Response(tracked, c.res)
        }
      } finally {
        if (!handedOver) this.#finished()
      }
    }
  }

  #finished(): void {
    if (--this.#inflight === 0 && this.#draining) for (const wake of this.#idle.splice(0)) wake()
  }

  /** The body, passed through; the request is counted down once, whichever way the body ends. */
  #track(source: ReadableStream<Uint8Array>, kind: StreamKind, signal: AbortSignal): ReadableStream<Uint8Array> {
    const reader = source.getReader()
    let done = false
    let endsWithNewline = true
    /** Set by cut(): the next read of the body gets the error record and the end instead of more of the stream. */
    let cutting = false
    let wakePull: (() => void) | undefined
    const ended: (() => void)[] = []
    const finish = () => {
      if (done) return
      done = true
      this.#streams.delete(tracked)
      signal.removeEventListener('abort', onAbort)
      for (const resolve of ended.splice(0)) resolve()
      this.#finished()
    }
    // The client went away (Bun both cancels the body and aborts the request's signal; either is enough).
    const onAbort = () => {
      finish()
      reader.cancel(signal.reason).catch(() => undefined)
    }
    const CUT = Symbol('cut')
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const endNow = () => {
      const record = cutRecord(kind, endsWithNewline)
      // What the route's producer sees (a write into the cancelled stream fails with it): an expected end, not a bug.
      reader.cancel(new TesseraError('UNAVAILABLE', CUT_MESSAGE)).catch(() => undefined)
      try {
        // The stream closes at the next read, once the record has been taken (pull, below).
        if (record) controller.enqueue(record)
        else {
          controller.error(new Error(CUT_MESSAGE)) // no record in this format: the transfer is visibly incomplete
        }
      } catch {
        // already closed or errored
      }
    }
    let pulling = false
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c
      },
      pull: async (c) => {
        if (cutting) {
          // The record was taken (it was enqueued before this read): the stream ends.
          c.close()
          return finish()
        }
        pulling = true
        try {
          const cut = new Promise<typeof CUT>((resolve) => (wakePull = () => resolve(CUT)))
          const r = await Promise.race([reader.read(), cut])
          if (r === CUT) return endNow()
          if (r.done) {
            c.close()
            return finish()
          }
          if (r.value.length > 0) endsWithNewline = r.value[r.value.length - 1] === 0x0a
          c.enqueue(r.value)
        } catch (e) {
          c.error(e)
          finish()
        } finally {
          pulling = false
          wakePull = undefined
        }
      },
      cancel: (reason) => {
        finish()
        return reader.cancel(reason).catch(() => undefined)
      },
    }, { highWaterMark: 0 })
    const tracked: Tracked = {
      kind,
      cut: () => {
        if (done) return Promise.resolve()
        const over = new Promise<void>((resolve) => ended.push(resolve))
        if (!cutting) {
          cutting = true
          if (pulling) wakePull?.()
          else endNow()
          if (!cutRecord(kind, true)) finish() // errored: nothing more will be read
        }
        return over
      },
    }
    this.#streams.add(tracked)
    signal.addEventListener('abort', onAbort, { once: true })
    return stream
  }
}
