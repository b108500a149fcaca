import { runChunks, TransientError } from '../../compute/index.ts'
import { call, expectKinds, scalar, t, typeError } from '../../query/index.ts'
import type { Expr, ExprLike, FnNode } from '../../query/index.ts'
import type { ProviderConfig, ProviderSpec } from '../client.ts'
import { ProviderClient } from '../client.ts'
import { checkProviderConfig } from '../config-check.ts'
import { encodeImage, messagesOf, modelOf, passThrough } from '../common.ts'
import type { SseEvent } from '../common.ts'
import { convertTools, openAIChatTool, openAIResponsesTool } from '../tool-specs.ts'
import type { ToolSpec } from '../tool-specs.ts'

// The OpenAI wire format: chat completions (tools, vision, streaming), the Responses API, embeddings. The same
// functions serve every OpenAI-compatible server (Ollama, vLLM, llama.cpp): openAICompatible('ollama', ...) registers
// ollama.chat, ollama.chat_completions... on a client of its own, with its own base URL and key.
//   <p>.chat(prompt | messages)              → the first choice's text (string)
//   <p>.chat_completions(prompt | messages)  → the whole response (json): message, tool_calls, usage
//   <p>.responses(input)                     → the whole Responses API object (json)      [OpenAI only]
//   <p>.vision(prompt, image)                → the first choice's text (string)
//   <p>.embeddings(text)                     → array<float32>[dimensions]

export interface ChatOptions {
  readonly model: string
  readonly system?: string
  readonly baseUrl?: string
  readonly temperature?: number
  readonly max_tokens?: number
  /** From tools([...]), or provider-native tool definitions. */
  readonly tools?: readonly ToolSpec[] | readonly unknown[]
  /** Stream the answer (server-sent events) and store the assembled response, as a non-streaming call would. */
  readonly stream?: boolean
  readonly [field: string]: unknown
}
export interface EmbeddingOptions {
  readonly model: string
  readonly dimensions?: number
  readonly baseUrl?: string
}

type ChatCompletion = { choices?: { index?: number; message?: Record<string, unknown>; finish_reason?: unknown }[]; [k: string]: unknown }

async function chatCompletion(client: ProviderClient, node: FnNode, messages: unknown[]): Promise<ChatCompletion> {
  const tools = convertTools(node.opts?.tools, openAIChatTool)
  const body = { model: modelOf(node, 'gpt-4o-mini'), messages, ...(tools ? { tools } : {}), ...passThrough(node) }
  if (node.opts?.stream !== true) return (await client.post(node, '/chat/completions', body)) as ChatCompletion
  return client.stream(node, '/chat/completions', { ...body, stream: true, stream_options: { include_usage: true } }, assembleChatStream)
}

type ToolCallDelta = { index?: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }
type ChunkChoice = { index?: number; delta?: { role?: string; content?: string | null; refusal?: string | null; tool_calls?: ToolCallDelta[] }; finish_reason?: string | null }

/**
 * Chat completion chunks → the response a non-streaming call returns (content joined, tool calls by index). A stream
 * is finished when it says so: `data: [DONE]`, or a finish_reason on every choice (servers that leave out [DONE]).
 * One that just stops was cut off (a dropped connection, a proxy's limit) and its partial answer must not be stored
 * as the answer: that is a transient failure, retried like a reset. `where` names the endpoint in errors.
 */
export async function assembleChatStream(events: AsyncIterable<Pick<SseEvent, 'data' | 'done'>>, where = 'the stream'): Promise<ChatCompletion> {
  const head: Record<string, unknown> = { object: 'chat.completion' }
  let usage: unknown
  const choices = new Map<number, { role: string; content: string | null; tool_calls: Map<number, { id: string; type: string; function: { name: string; arguments: string } }>; finish_reason: unknown }>()
  let done = false
  for await (const { data, done: marker } of events) {
    if (marker) {
      done = true
      break
    }
    if (!data || typeof data !== 'object') throw new Error(`${where}: the stream sent ${JSON.stringify(data)?.slice(0, 80)}, not a chat completion chunk`)
    const chunk = data as { id?: string; created?: number; model?: string; choices?: ChunkChoice[]; usage?: unknown; error?: { message?: string } }
    if (chunk.error) throw new Error(`${where}: the stream reported an error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`)
    if (chunk.choices !== undefined && !Array.isArray(chunk.choices)) throw new Error(`${where}: the stream sent a chunk whose choices is not a list: ${JSON.stringify(chunk).slice(0, 120)}`)
    // Only the fields a chunk sent: compatible servers (some llama.cpp and vLLM builds) leave out `created` or `model`,
    // and an undefined field is not JSON, so the stored response would be refused and the cell would fail.
    for (const k of ['id', 'created', 'model'] as const) if (chunk[k] !== undefined && chunk[k] !== null) head[k] = chunk[k]
    if (chunk.usage) usage = chunk.usage
    for (const c of chunk.choices ?? []) {
      const i = c.index ?? 0
      let choice = choices.get(i)
      if (!choice) choices.set(i, (choice = { role: 'assistant', content: null, tool_calls: new Map(), finish_reason: null }))
      if (c.delta?.role) choice.role = c.delta.role
      if (typeof c.delta?.content === 'string') choice.content = (choice.content ?? '') + c.delta.content
      for (const tc of c.delta?.tool_calls ?? []) {
        const k = tc.index ?? 0
        let call = choice.tool_calls.get(k)
        if (!call) choice.tool_calls.set(k, (call = { id: '', type: 'function', function: { name: '', arguments: '' } }))
        if (tc.id) call.id = tc.id
        if (tc.type) call.type = tc.type
        if (tc.function?.name) call.function.name += tc.function.name
        if (tc.function?.arguments) call.function.arguments += tc.function.arguments
      }
      if (c.finish_reason) choice.finish_reason = c.finish_reason
    }
  }
  const finished = choices.size > 0 && [...choices.values()].every((c) => c.finish_reason)
  if (!done && !finished) throw new TransientError(`${where}: the stream ended early (no finish_reason and no [DONE]); the partial answer was not kept`)
  return {
    ...head,
    choices: [...choices.entries()].sort(([a], [b]) => a - b).map(([index, c]) => ({
      index,
      message: { role: c.role, content: c.content, ...(c.tool_calls.size ? { tool_calls: [...c.tool_calls.entries()].sort(([a], [b]) => a - b).map(([, v]) => v) } : {}) },
      finish_reason: c.finish_reason,
    })),
    ...(usage ? { usage } : {}),
  }
}

function firstContent(r: ChatCompletion, client: ProviderClient, node: FnNode): string | null {
  const content = r.choices?.[0]?.message?.content
  if (content === undefined) throw new Error(`chat completion from ${client.shownBaseUrl(node)} has no choices[0].message.content: ${JSON.stringify(r).slice(0, 160)}`)
  return content as string | null
}

function dimensionsOf(node: FnNode): number | undefined {
  const d = node.opts?.dimensions
  if (d === undefined) return undefined
  if (!Number.isInteger(d) || (d as number) <= 0) throw typeError(node, `${node.fn}() dimensions must be a positive integer, got ${JSON.stringify(d)}`)
  return d as number
}

/** Registers <name>.chat, .chat_completions, .vision, .embeddings (and .responses for OpenAI itself) on `client`. */
export function registerOpenAIFunctions(client: ProviderClient, options: { responses: boolean }) {
  const p = client.spec.name
  const prompt = (types: readonly import('../../types/index.ts').ColumnType[], node: FnNode) => client.checkPrompt(types, node, 'gpt-4o-mini')
  const rows = <R>(inputs: readonly unknown[], fn: (i: number) => Promise<R>) => client.perRow(inputs, fn)

  scalar({
    name: `${p}.chat`, minArgs: 1, maxArgs: 1, deterministic: false,
    returnType: (types, node) => (prompt(types, node), t('string', true)),
    evalBatch: async ([inputs], node) => rows(inputs!, async (i) =>
      firstContent(await chatCompletion(client, node, messagesOf(inputs![i], node, { inlineSystem: true })), client, node)),
  })

  scalar({
    name: `${p}.chat_completions`, minArgs: 1, maxArgs: 1, deterministic: false,
    returnType: (types, node) => (prompt(types, node), t('json', true)),
    evalBatch: async ([inputs], node) => rows(inputs!, async (i) => chatCompletion(client, node, messagesOf(inputs![i], node, { inlineSystem: true }))),
  })

  scalar({
    name: `${p}.vision`, minArgs: 2, maxArgs: 2, deterministic: false,
    returnType: (types, node) => (prompt(types, node), expectKinds(node, types, 1, ['image', 'string']), t('string', true)),
    evalBatch: async ([prompts, images], node) => rows(prompts!, async (i) => {
      const img = await encodeImage(images![i] as string)
      const detail = typeof node.opts?.detail === 'string' ? { detail: node.opts.detail } : {}
      const system = typeof node.opts?.system === 'string' ? [{ role: 'system', content: node.opts.system }] : []
      const messages = [...system, { role: 'user', content: [
        { type: 'text', text: String(prompts![i]) },
        { type: 'image_url', image_url: { url: `data:${img.mime};base64,${img.base64}`, ...detail } },
      ] }]
      return firstContent(await chatCompletion(client, node, messages), client, node)
    }),
  })

  scalar({
    name: `${p}.embeddings`, minArgs: 1, maxArgs: 1,
    returnType: (types, node) => {
      client.checkBaseUrlOption(node)
      expectKinds(node, types, 0, ['string'])
      modelOf(node, 'text-embedding-3-small')
      const d = dimensionsOf(node)
      return { kind: 'array', dtype: 'float32', nullable: true, ...(d ? { shape: [d] } : {}) }
    },
    evalBatch: async ([texts], node) => {
      const model = modelOf(node, 'text-embedding-3-small')
      const dimensions = dimensionsOf(node)
      return runChunks(texts as string[], client.config.embeddingBatchSize ?? 64, client.policy, async (chunk) => {
        const r = (await client.post(node, '/embeddings', { model, input: chunk, ...(dimensions ? { dimensions } : {}), ...passThrough(node) })) as { data?: { index?: number; embedding: number[] }[] }
        if (!Array.isArray(r.data) || !r.data.every((d) => Array.isArray(d?.embedding))) throw new Error(`embeddings from ${client.shownBaseUrl(node)}: the response has no data[].embedding lists: ${JSON.stringify(r).slice(0, 160)}`)
        const data = [...r.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
        if (data.length !== chunk.length) throw new Error(`embeddings from ${client.shownBaseUrl(node)}: ${data.length} vectors for ${chunk.length} texts`)
        for (const d of data) {
          if (dimensions && d.embedding.length !== dimensions) throw new Error(`embeddings from ${client.shownBaseUrl(node)} have ${d.embedding.length} dimensions, expected ${dimensions}`)
        }
        return data.map((d) => d.embedding)
      })
    },
  })

  if (options.responses) {
    scalar({
      name: `${p}.responses`, minArgs: 1, maxArgs: 1, deterministic: false,
      returnType: (types, node) => (prompt(types, node), t('json', true)),
      evalBatch: async ([inputs], node) => rows(inputs!, async (i) => {
        const tools = convertTools(node.opts?.tools, openAIResponsesTool)
        const instructions = typeof node.opts?.system === 'string' ? { instructions: node.opts.system } : {}
        return client.post(node, '/responses', { model: modelOf(node, 'gpt-4o-mini'), input: inputs![i], ...instructions, ...(tools ? { tools } : {}), ...passThrough(node) })
      }),
    })
  }

  return {
    /** The first choice's text. */
    chat: (input: ExprLike, opts: ChatOptions): Expr => call(`${p}.chat`, [input], { ...opts }),
    /** The whole chat completion as JSON (choices[0].message with tool_calls, usage...). */
    chatCompletions: (input: ExprLike, opts: ChatOptions): Expr => call(`${p}.chat_completions`, [input], { ...opts }),
    /** A prompt about an image (vision input); the first choice's text. opts.detail: 'low' | 'high' | 'auto'. */
    vision: (promptText: ExprLike, image: ExprLike, opts: ChatOptions & { detail?: string }): Expr => call(`${p}.vision`, [promptText, image], { ...opts }),
    embeddings: (text: ExprLike, opts: EmbeddingOptions): Expr => call(`${p}.embeddings`, [text], { ...opts }),
    configure: (config: ProviderConfig): void => client.configure(config),
    client,
  }
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

const openaiClient = new ProviderClient({
  name: 'openai', defaultBaseUrl: 'https://api.openai.com/v1',
  baseUrlEnv: ['OPENAI_BASE_URL'], apiKeyEnv: ['OPENAI_API_KEY'], authHeaders: bearer,
})
const openaiFns = registerOpenAIFunctions(openaiClient, { responses: true })

/** OpenAI: `openai.chatCompletions(docs.c.question, { model: 'gpt-4o-mini', tools })`, `openai.embeddings(...)`. */
export const openai = {
  ...openaiFns,
  /** The Responses API (POST /responses): the whole response object, output items incl. function_call. */
  responses: (input: ExprLike, opts: ChatOptions): Expr => call('openai.responses', [input], { ...opts }),
}

/**
 * An OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio...) under its own name: functions
 * `<name>.chat`, `<name>.chat_completions`, `<name>.vision`, `<name>.embeddings`; base URL from `baseUrl`, configure()
 * or TESSERA_<NAME>_BASE_URL; key (when the server wants one) from TESSERA_<NAME>_API_KEY. Call it at import time of
 * your module (like udf()) so that stored columns find their functions after a reopen.
 */
export function openAICompatible(name: string, options: { baseUrl: string } & ProviderConfig) {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new TypeError(`openAICompatible(): name must be lowercase letters, digits and _, got '${name}'`)
  checkProviderConfig(`openAICompatible('${name}')`, options)
  const client = new ProviderClient({ name, defaultBaseUrl: options.baseUrl, authHeaders: bearer })
  const { baseUrl: _b, ...config } = options
  client.configure(config)
  return registerOpenAIFunctions(client, { responses: false })
}

/** Ollama's OpenAI-compatible endpoint (TESSERA_OLLAMA_BASE_URL, default http://127.0.0.1:11434/v1). */
export const ollama = openAICompatible('ollama', { baseUrl: 'http://127.0.0.1:11434/v1' })
/** vLLM's OpenAI-compatible server (TESSERA_VLLM_BASE_URL, default http://127.0.0.1:8000/v1). */
export const vllm = openAICompatible('vllm', { baseUrl: 'http://127.0.0.1:8000/v1' })
/** llama.cpp's llama-server (TESSERA_LLAMACPP_BASE_URL, default http://127.0.0.1:8080/v1). */
export const llamacpp = openAICompatible('llamacpp', { baseUrl: 'http://127.0.0.1:8080/v1' })
