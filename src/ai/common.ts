import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { EventSourceMessage } from 'eventsource-parser/stream'
import { readMedia } from '../media/index.ts'
import { sniff } from '../media/index.ts'
import { typeError } from '../query/index.ts'
import type { FnNode } from '../query/index.ts'

// Pieces the provider modules share: option checks, prompts → messages, images → base64, server-sent events.

export function modelOf(node: FnNode, example: string): string {
  const m = node.opts?.model
  if (typeof m !== 'string' || m === '') throw typeError(node, `${node.fn}() needs opts.model, e.g. '${example}'`)
  return m
}

/** Request fields passed through to the provider (temperature, max_tokens...), without Tessera's own options. */
export function passThrough(node: FnNode, own: readonly string[] = []): Record<string, unknown> {
  const skip = new Set(['model', 'baseUrl', 'system', 'dimensions', 'tools', 'stream', 'detail', ...own])
  return Object.fromEntries(Object.entries(node.opts ?? {}).filter(([k]) => !skip.has(k)))
}

export type Message = { role: string; content: unknown; [k: string]: unknown }

/** A prompt string or a list of {role, ...} messages, with opts.system in front when the provider takes it inline. */
export function messagesOf(input: unknown, node: FnNode, options: { inlineSystem: boolean }): Message[] {
  const system = options.inlineSystem && typeof node.opts?.system === 'string' ? [{ role: 'system', content: node.opts.system }] : []
  if (typeof input === 'string') return [...system, { role: 'user', content: input }]
  if (Array.isArray(input) && input.every((m) => m && typeof m === 'object' && 'role' in m)) return [...system, ...(input as Message[])]
  throw new TypeError(`${node.fn}() needs a prompt string or a list of {role, content} messages, got ${JSON.stringify(input)?.slice(0, 80)}`)
}

export interface EncodedImage {
  readonly mime: string
  readonly base64: string
}

/** An image value (path, URL, media:// or data: URL) as base64 with its MIME type, for providers' vision input. */
export async function encodeImage(ref: string): Promise<EncodedImage> {
  if (ref.startsWith('data:')) {
    const m = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(ref)
    if (!m) throw new TypeError(`not a data: URL: ${ref.slice(0, 40)}`)
    const bytes = m[2] ? Buffer.from(m[3]!, 'base64') : Buffer.from(decodeURIComponent(m[3]!))
    return { mime: m[1] ?? mimeOf(bytes), base64: bytes.toString('base64') }
  }
  const bytes = await readMedia(ref)
  return { mime: mimeOf(bytes), base64: Buffer.from(bytes).toString('base64') }
}

function mimeOf(bytes: Uint8Array): string {
  const s = sniff(bytes)
  if (s?.kind !== 'image') throw new TypeError('the image value is not an image file (png, jpeg, gif, webp...)')
  return s.ext === 'jpg' ? 'image/jpeg' : `image/${s.ext}`
}

/** One server-sent event; `done` marks OpenAI's `data: [DONE]`, the stream's own end marker. */
export interface SseEvent {
  readonly event: string
  readonly data: unknown
  readonly done?: true
}

/**
 * Server-sent events from a streaming response: {event, data} per message, `data` parsed as JSON; `[DONE]` is passed
 * on as {done: true} and ends it (an assembler tells a finished stream from one cut short by its end markers).
 * `where` names the endpoint in errors.
 */
export async function* serverSentEvents(res: Response, where = 'the stream'): AsyncGenerator<SseEvent> {
  if (!res.body) return
  // maxBufferSize bounds what one unterminated event may hold, so a misbehaving server cannot grow it without end.
  const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ onError: 'terminate', maxBufferSize: 16 * 1024 * 1024 }))
  for await (const e of events as unknown as AsyncIterable<EventSourceMessage>) {
    if (e.data === '[DONE]') {
      yield { event: e.event ?? 'message', data: null, done: true }
      return
    }
    let data: unknown
    try {
      data = JSON.parse(e.data)
    } catch (error) {
      throw new Error(`${where}: the stream sent an event whose data is not JSON (${(error as Error).message}): ${JSON.stringify(e.data.slice(0, 120))}`)
    }
    yield { event: e.event ?? 'message', data }
  }
}

/** A stream answered as a JSON list of its chunks (Gemini without alt=sse), as the events a stream would carry. */
export async function* listedEvents(chunks: readonly unknown[]): AsyncGenerator<SseEvent> {
  for (const data of chunks) yield { event: 'message', data }
}
