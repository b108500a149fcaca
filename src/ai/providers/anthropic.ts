import { TransientError } from '../../compute/index.ts'
import { call, expectKinds, scalar, t } from '../../query/index.ts'
import type { Expr, ExprLike, FnNode } from '../../query/index.ts'
import type { ColumnType } from '../../types/index.ts'
import type { ProviderConfig } from '../client.ts'
import { ProviderClient } from '../client.ts'
import { encodeImage, messagesOf, modelOf, passThrough } from '../common.ts'
import type { Message, SseEvent } from '../common.ts'
import { anthropicTool, convertTools } from '../tool-specs.ts'
import type { ToolSpec } from '../tool-specs.ts'

// Anthropic's Messages API (POST /v1/messages, x-api-key, anthropic-version): messages with tool use, vision input
// and streaming. anthropic.messages returns the whole message (content blocks incl. tool_use, stop_reason, usage);
// anthropic.vision returns the text of a prompt about one image.

export interface AnthropicOptions {
  readonly model: string
  /** Required by the API; default 1024. */
  readonly max_tokens?: number
  readonly system?: string
  readonly baseUrl?: string
  readonly temperature?: number
  readonly tools?: readonly ToolSpec[] | readonly unknown[]
  /** Stream (server-sent events) and store the assembled message. */
  readonly stream?: boolean
  readonly [field: string]: unknown
}

const client = new ProviderClient({
  name: 'anthropic', defaultBaseUrl: 'https://api.anthropic.com/v1',
  baseUrlEnv: ['ANTHROPIC_BASE_URL'], apiKeyEnv: ['ANTHROPIC_API_KEY'],
  authHeaders: (key) => ({ 'x-api-key': key }),
  fixedHeaders: { 'anthropic-version': '2023-06-01' },
})

type AnthropicMessage = { content?: { type: string; text?: string; [k: string]: unknown }[]; [k: string]: unknown }

type TextBlock = { type: 'text'; text: string; [k: string]: unknown }

/**
 * The top-level system field from opts.system and the role 'system' messages: their texts joined, or, when a message
 * gives its content as blocks ([{type: 'text', text}], the OpenAI and Anthropic list form), the list of text blocks
 * (their cache_control kept). String() of such a list sent the model "[object Object]" as its instructions.
 */
function systemOf(node: FnNode, messages: readonly Message[]): string | TextBlock[] | undefined {
  const parts: (string | TextBlock[])[] = typeof node.opts?.system === 'string' ? [node.opts.system] : []
  messages.forEach((m, i) => {
    if (m.role !== 'system') return
    if (typeof m.content === 'string') return parts.push(m.content)
    const blocks = Array.isArray(m.content) ? m.content : [m.content]
    const bad = blocks.findIndex((b) => !b || typeof b !== 'object' || (b as TextBlock).type !== 'text' || typeof (b as TextBlock).text !== 'string')
    if (bad >= 0) throw new TypeError(`${node.fn}(): message ${i} (role 'system') needs a string content or a list of {type: 'text', text} blocks, got ${JSON.stringify(blocks[bad])?.slice(0, 80)}${Array.isArray(m.content) ? ` at content[${bad}]` : ''}`)
    parts.push(blocks as TextBlock[])
  })
  if (parts.length === 0) return undefined
  if (parts.every((p) => typeof p === 'string')) return parts.join('\n\n')
  return parts.flatMap((p) => (typeof p === 'string' ? [{ type: 'text' as const, text: p }] : p))
}

async function send(node: FnNode, messages: Message[]): Promise<AnthropicMessage> {
  // System text is a top-level field here, not a message: opts.system and any role 'system' messages go there.
  const system = systemOf(node, messages)
  const tools = convertTools(node.opts?.tools, anthropicTool)
  const body = {
    model: modelOf(node, 'claude-sonnet-4-5'),
    max_tokens: typeof node.opts?.max_tokens === 'number' ? node.opts.max_tokens : 1024,
    messages: messages.filter((m) => m.role !== 'system'),
    ...(system !== undefined ? { system } : {}),
    ...(tools ? { tools } : {}),
    ...passThrough(node, ['max_tokens']),
  }
  if (node.opts?.stream !== true) return (await client.post(node, '/messages', body)) as AnthropicMessage
  return client.stream(node, '/messages', { ...body, stream: true }, assembleMessageStream)
}

type StreamEvent = {
  type: string; message?: AnthropicMessage; index?: number; content_block?: Record<string, unknown>
  delta?: { type?: string; text?: string; partial_json?: string; thinking?: string; stop_reason?: unknown; stop_sequence?: unknown }
  usage?: Record<string, unknown>; error?: { message?: string }
}

/**
 * message_start, content_block_start/delta/stop, message_delta, message_stop → the message a plain call returns. A
 * stream without its message_stop was cut off: its partial message is not the answer (a transient failure, retried
 * like a reset). `where` names the endpoint in errors.
 */
export async function assembleMessageStream(events: AsyncIterable<Pick<SseEvent, 'data' | 'done'>>, where = 'the stream'): Promise<AnthropicMessage> {
  let message: AnthropicMessage = {}
  const blocks: Record<string, unknown>[] = []
  const partialJson = new Map<number, string>()
  let stopped = false
  // A delta or stop names its block by index; one never started means the stream is not the Messages API's.
  const block = (e: StreamEvent): Record<string, unknown> => {
    const b = blocks[e.index ?? 0]
    if (!b) throw new Error(`${where}: the stream sent ${e.type} for content block ${e.index ?? 0} before its content_block_start`)
    return b
  }
  for await (const { data, done } of events) {
    if (done) break // not Anthropic's framing, but a compatible server may end with [DONE] after message_stop
    if (!data || typeof data !== 'object') throw new Error(`${where}: the stream sent ${JSON.stringify(data)?.slice(0, 80)}, not a Messages API event`)
    const e = data as StreamEvent
    if (e.type === 'error') throw new Error(`${where}: the stream reported an error: ${e.error?.message ?? JSON.stringify(e.error)}`)
    if (e.type === 'message_start' && e.message) message = { ...e.message }
    else if (e.type === 'content_block_start' && e.content_block) {
      // Blocks start in order (0, 1, 2...). A far index would make the list sparse: 50,000,000 stored as that many
      // nulls (a 250 MB cell), a larger one a string too long to store at all.
      const index = e.index ?? blocks.length
      if (!Number.isInteger(index) || index < 0 || index > blocks.length) throw new Error(`${where}: the stream started content block ${JSON.stringify(index)?.slice(0, 40)} after ${blocks.length} block(s); blocks start in order from 0`)
      blocks[index] = { ...e.content_block }
    }
    else if (e.type === 'content_block_delta' && e.delta) {
      const b = block(e)
      if (e.delta.type === 'text_delta') b.text = String(b.text ?? '') + (e.delta.text ?? '')
      else if (e.delta.type === 'thinking_delta') b.thinking = String(b.thinking ?? '') + (e.delta.thinking ?? '')
      else if (e.delta.type === 'input_json_delta') partialJson.set(e.index ?? 0, (partialJson.get(e.index ?? 0) ?? '') + (e.delta.partial_json ?? ''))
    } else if (e.type === 'content_block_stop') {
      const b = block(e)
      const json = partialJson.get(e.index ?? 0)
      if (json !== undefined) b.input = json === '' ? {} : parseToolInput(json, e.index ?? 0, where)
    } else if (e.type === 'message_stop') {
      stopped = true
    } else if (e.type === 'message_delta') {
      message = { ...message, ...e.delta, usage: { ...(message.usage as object), ...e.usage } }
      delete (message as Record<string, unknown>).type
      message.type = 'message'
    }
  }
  if (!stopped) throw new TransientError(`${where}: the stream ended early (no message_stop); the partial message was not kept`)
  return { ...message, content: blocks as AnthropicMessage['content'] }
}

function parseToolInput(json: string, index: number, where: string): unknown {
  try {
    return JSON.parse(json)
  } catch (e) {
    throw new Error(`${where}: the tool_use input of content block ${index} is not JSON (${(e as Error).message}): ${JSON.stringify(json.slice(0, 120))}`)
  }
}

const firstText = (m: AnthropicMessage): string | null => (m.content?.find((b) => b.type === 'text')?.text ?? null)

const checkPrompt = (types: readonly ColumnType[], node: FnNode) => client.checkPrompt(types, node, 'claude-sonnet-4-5')
const rows = <R>(inputs: readonly unknown[], fn: (i: number) => Promise<R>) => client.perRow(inputs, fn)

scalar({
  name: 'anthropic.messages', minArgs: 1, maxArgs: 1, deterministic: false,
  returnType: (types, node) => (checkPrompt(types, node), t('json', true)),
  evalBatch: async ([inputs], node) => rows(inputs!, (i) => send(node, messagesOf(inputs![i], node, { inlineSystem: false }))),
})

scalar({
  name: 'anthropic.vision', minArgs: 2, maxArgs: 2, deterministic: false,
  returnType: (types, node) => (checkPrompt(types, node), expectKinds(node, types, 1, ['image', 'string']), t('string', true)),
  evalBatch: async ([prompts, images], node) => rows(prompts!, async (i) => {
    const img = await encodeImage(images![i] as string)
    return firstText(await send(node, [{ role: 'user', content: [
      { type: 'image', source: { type: 'base64', media_type: img.mime, data: img.base64 } },
      { type: 'text', text: String(prompts![i]) },
    ] }]))
  }),
})

/** Anthropic: `anthropic.messages(t.c.question, { model: 'claude-sonnet-4-5', max_tokens: 512, tools })`. */
export const anthropic = {
  /** The whole message as JSON: content blocks (text, tool_use), stop_reason, usage. */
  messages: (input: ExprLike, opts: AnthropicOptions): Expr => call('anthropic.messages', [input], { ...opts }),
  /** A prompt about an image; the first text block. */
  vision: (prompt: ExprLike, image: ExprLike, opts: AnthropicOptions): Expr => call('anthropic.vision', [prompt, image], { ...opts }),
  configure: (config: ProviderConfig): void => client.configure(config),
  client,
}
