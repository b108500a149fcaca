// A fake LLM server on 127.0.0.1 for tests: records every request (path, headers, parsed body) and answers with
// whatever the test's handler returns. Helpers build server-sent event streams in the providers' framing.

export interface Seen {
  readonly path: string
  readonly headers: Headers
  readonly body: Record<string, any>
}

export interface FakeServer {
  readonly url: string
  readonly seen: Seen[]
  stop(): void
}

export function fakeServer(handle: (req: Seen, n: number) => Response | Promise<Response>): FakeServer {
  const seen: Seen[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1', port: 0,
    async fetch(req) {
      const text = await req.text()
      const s: Seen = { path: new URL(req.url).pathname, headers: req.headers, body: text ? JSON.parse(text) : {} }
      seen.push(s)
      return handle(s, seen.length)
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, seen, stop: () => server.stop(true) }
}

/** An SSE response: each item is [event name | undefined, data] (data a JSON value or the raw string '[DONE]'). */
export function sse(events: readonly (readonly [string | undefined, unknown])[]): Response {
  const body = events.map(([event, data]) => `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`).join('')
  // Split mid-event so the client has to join chunks.
  const bytes = new TextEncoder().encode(body)
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < bytes.length; i += 37) c.enqueue(bytes.subarray(i, i + 37))
      c.close()
    },
  })
  return new Response(stream, { headers: { 'content-type': 'text/event-stream' } })
}

/** A 1×1 PNG (a real file, as a data: URL). */
export const PNG_1x1 = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
