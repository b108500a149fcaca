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

/** How a holdingServer treats one request: answer at once, hold it before the headers, or hold it mid-stream. */
export type HoldPlan = 'answer' | 'hold' | 'hold-stream' | Response

export interface HoldingServer {
  readonly url: string
  /** The prompt (last message) of every request, in arrival order. */
  readonly started: string[]
  /** Prompts of held requests whose client went away while held: the server saw the connection close. */
  readonly aborted: string[]
  stop(): void
}

const completion = (content: string) => ({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }] })

/**
 * A fake OpenAI-style chat server that can keep a request open, for tests of cancelling calls in flight. A held
 * request answers after `holdMs` (`late <prompt>`) unless its client aborts it first, which the server records
 * (req.signal fires when the connection closes, before or after the headers). Bun's idle timeout is off, so a held
 * connection is held for the whole `holdMs`.
 */
export function holdingServer(plan: (prompt: string) => HoldPlan, holdMs: number): HoldingServer {
  const started: string[] = []
  const aborted: string[] = []
  const enc = new TextEncoder()
  const server = Bun.serve({
    hostname: '127.0.0.1', port: 0, idleTimeout: 0,
    async fetch(req) {
      const body = (await req.json()) as { messages?: { content?: unknown }[]; stream?: boolean }
      const prompt = String(body.messages?.at(-1)?.content)
      started.push(prompt)
      const how = plan(prompt)
      if (how instanceof Response) return how
      if (how === 'answer') return Response.json(completion(`ok ${prompt}`))
      // Resolves at the end of the hold, or early when the client goes away (recorded once).
      const held = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, holdMs)
        req.signal.addEventListener('abort', () => (aborted.push(prompt), clearTimeout(timer), resolve()), { once: true })
      })
      if (how === 'hold') {
        await held
        return Response.json(completion(`late ${prompt}`))
      }
      const event = (data: unknown) => enc.encode(`data: ${JSON.stringify(data)}\n\n`)
      return new Response(new ReadableStream({
        async start(c) {
          c.enqueue(event({ id: 'x', model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'late ' } }] }))
          await held
          if (req.signal.aborted) return
          c.enqueue(event({ id: 'x', model: 'm', choices: [{ index: 0, delta: { content: prompt }, finish_reason: 'stop' }] }))
          c.enqueue(enc.encode('data: [DONE]\n\n'))
          c.close()
        },
      }), { headers: { 'content-type': 'text/event-stream' } })
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, started, aborted, stop: () => server.stop(true) }
}

/** Waits until `cond` holds, polling; fails after `ms` naming `what`. */
export async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}
