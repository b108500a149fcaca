import { runChunks, TransientError } from '../../compute/index.ts'
import { call, expectKinds, scalar, t, typeError } from '../../query/index.ts'
import type { Expr, ExprLike, FnNode } from '../../query/index.ts'
import type { ColumnType } from '../../types/index.ts'
import type { ProviderConfig } from '../client.ts'
import { ProviderClient } from '../client.ts'
import { encodeImage, modelOf, passThrough } from '../common.ts'
import type { SseEvent } from '../common.ts'
import { convertTools, geminiDeclaration } from '../tool-specs.ts'
import type { ToolSpec } from '../tool-specs.ts'

// Google's Gemini API (generativelanguage.googleapis.com/v1beta, x-goog-api-key): generateContent with function
// calling and inline images, and batchEmbedContents. gemini.generate_content returns the whole response (candidates
// with their parts, functionCall included; usageMetadata).

export interface GeminiOptions {
  readonly model: string
  readonly system?: string
  readonly baseUrl?: string
  readonly tools?: readonly ToolSpec[] | readonly unknown[]
  readonly generationConfig?: Record<string, unknown>
  /** Stream (streamGenerateContent, server-sent events) and store the assembled response. */
  readonly stream?: boolean
  readonly [field: string]: unknown
}
export interface GeminiEmbeddingOptions {
  readonly model: string
  readonly dimensions?: number
  readonly taskType?: string
  readonly baseUrl?: string
}

const client = new ProviderClient({
  name: 'gemini', defaultBaseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  baseUrlEnv: ['GEMINI_BASE_URL'], apiKeyEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  authHeaders: (key) => ({ 'x-goog-api-key': key }),
})

type Content = { role: string; parts: unknown[] }

/** A prompt, Gemini contents ({role, parts}), or chat-style messages ({role, content}; 'assistant' becomes 'model'). */
function contentsOf(input: unknown, node: FnNode): Content[] {
  if (typeof input === 'string') return [{ role: 'user', parts: [{ text: input }] }]
  if (Array.isArray(input) && input.every((m) => m && typeof m === 'object')) {
    return input.map((m: { role?: string; parts?: unknown[]; content?: unknown }) => {
      if (Array.isArray(m.parts)) return { role: m.role ?? 'user', parts: m.parts }
      if (typeof m.content === 'string') return { role: m.role === 'assistant' ? 'model' : (m.role ?? 'user'), parts: [{ text: m.content }] }
      throw new TypeError(`${node.fn}(): each message needs parts or a string content, got ${JSON.stringify(m).slice(0, 80)}`)
    })
  }
  throw new TypeError(`${node.fn}() needs a prompt string or a list of contents, got ${JSON.stringify(input)?.slice(0, 80)}`)
}

// The model is part of the request URL (POST <base>/models/<model>:generateContent), where OpenAI and Anthropic send it
// in the body. A name holding '/', '..' (or '%2e%2e'), '?' or '#' would move the request, the server's API key and
// the pass-through fields with it, to another path of the provider's host (files, tunedModels, cachedContents), and a
// scoped token chooses its expressions' options: so the name is one path segment, after an optional collection.
const MODEL_NAME = /^(models\/|tunedModels\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

function geminiModel(node: FnNode, example: string): string {
  const model = modelOf(node, example)
  if (!MODEL_NAME.test(model)) {
    throw typeError(node, `${node.fn}() opts.model must be a Gemini model name such as '${example}' or 'models/${example}' (letters, digits, '.', '_' and '-'), got ${JSON.stringify(model.slice(0, 80))}`)
  }
  return model
}

/** models/<name> or tunedModels/<name>, as the URL and batchEmbedContents' requests name it. */
const modelName = (model: string) => (/^(models|tunedModels)\//.test(model) ? model : `models/${model}`)

async function generate(node: FnNode, contents: Content[]): Promise<unknown> {
  const model = modelName(geminiModel(node, 'gemini-2.5-flash'))
  const declarations = convertTools(node.opts?.tools, geminiDeclaration)
  // Tessera tools become one {functionDeclarations}; provider-native entries ({googleSearch: {}}...) pass through.
  const ours = declarations?.filter((d, i) => d !== (node.opts!.tools as unknown[])[i])
  const native = declarations?.filter((d, i) => d === (node.opts!.tools as unknown[])[i])
  const tools = declarations ? [...(ours!.length ? [{ functionDeclarations: ours }] : []), ...native!] : undefined
  const system = typeof node.opts?.system === 'string' ? { systemInstruction: { parts: [{ text: node.opts.system }] } } : {}
  const body = { contents, ...system, ...(tools ? { tools } : {}), ...passThrough(node) }
  if (node.opts?.stream !== true) return client.post(node, `/${model}:generateContent`, body)
  return client.stream(node, `/${model}:streamGenerateContent?alt=sse`, body, assembleGeminiStream)
}

type Part = { text?: string; [k: string]: unknown }
type StreamChunk = { candidates?: { content?: { role?: string; parts?: Part[] }; finishReason?: string; [k: string]: unknown }[]; usageMetadata?: unknown; modelVersion?: string; promptFeedback?: { blockReason?: string }; error?: { message?: string } }

/**
 * streamGenerateContent chunks → one response: consecutive text parts joined, other parts (functionCall) kept. The
 * last chunk of a finished stream carries the candidate's finishReason (or, for a blocked prompt, promptFeedback's
 * blockReason); a stream without either was cut off, and its partial answer is not the answer (a transient failure,
 * retried like a reset). `where` names the endpoint in errors.
 */
export async function assembleGeminiStream(events: AsyncIterable<Pick<SseEvent, 'data' | 'done'>>, where = 'the stream'): Promise<unknown> {
  const parts: Part[] = []
  let last: StreamChunk = {}
  let candidate: Record<string, unknown> = {}
  let finished = false
  for await (const { data, done } of events) {
    if (done) break
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error(`${where}: the stream sent ${JSON.stringify(data)?.slice(0, 80)}, not a GenerateContentResponse chunk`)
    const chunk = data as StreamChunk
    if (chunk.error) throw new Error(`${where}: the stream reported an error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`)
    last = { ...last, ...chunk }
    if (chunk.promptFeedback?.blockReason) finished = true
    const c = chunk.candidates?.[0]
    if (!c) continue
    if (c.finishReason) finished = true
    const { content, ...rest } = c
    candidate = { ...candidate, ...rest }
    for (const p of content?.parts ?? []) {
      const prev = parts.at(-1)
      if (typeof p.text === 'string' && Object.keys(p).length === 1 && prev && typeof prev.text === 'string' && Object.keys(prev).length === 1) prev.text += p.text
      else parts.push({ ...p })
    }
  }
  if (!finished) throw new TransientError(`${where}: the stream ended early (no finishReason); the partial answer was not kept`)
  const { candidates: _c, ...head } = last
  return { ...head, candidates: [{ ...candidate, content: { role: 'model', parts } }] }
}

const checkPrompt = (types: readonly ColumnType[], node: FnNode) => (client.checkPrompt(types, node, 'gemini-2.5-flash'), geminiModel(node, 'gemini-2.5-flash'))
const rows = <R>(inputs: readonly unknown[], fn: (i: number) => Promise<R>) => client.perRow(inputs, fn)

type GenerateResponse = { candidates?: { content?: { parts?: { text?: string }[] } }[] }
const firstText = (r: GenerateResponse): string | null => r.candidates?.[0]?.content?.parts?.filter((p) => typeof p.text === 'string').map((p) => p.text).join('') ?? null

scalar({
  name: 'gemini.generate_content', minArgs: 1, maxArgs: 1, deterministic: false,
  returnType: (types, node) => (checkPrompt(types, node), t('json', true)),
  evalBatch: async ([inputs], node) => rows(inputs!, (i) => generate(node, contentsOf(inputs![i], node))),
})

scalar({
  name: 'gemini.vision', minArgs: 2, maxArgs: 2, deterministic: false,
  returnType: (types, node) => (checkPrompt(types, node), expectKinds(node, types, 1, ['image', 'string']), t('string', true)),
  evalBatch: async ([prompts, images], node) => rows(prompts!, async (i) => {
    const img = await encodeImage(images![i] as string)
    const parts = [{ text: String(prompts![i]) }, { inline_data: { mime_type: img.mime, data: img.base64 } }]
    return firstText((await generate(node, [{ role: 'user', parts }])) as GenerateResponse)
  }),
})

function dimensionsOf(node: FnNode): number | undefined {
  const d = node.opts?.dimensions
  if (d === undefined) return undefined
  if (!Number.isInteger(d) || (d as number) <= 0) throw typeError(node, `${node.fn}() dimensions must be a positive integer, got ${JSON.stringify(d)}`)
  return d as number
}

scalar({
  name: 'gemini.embeddings', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => {
    client.checkBaseUrlOption(node)
    expectKinds(node, types, 0, ['string'])
    geminiModel(node, 'gemini-embedding-001')
    const d = dimensionsOf(node)
    return { kind: 'array', dtype: 'float32', nullable: true, ...(d ? { shape: [d] } : {}) }
  },
  evalBatch: async ([texts], node) => {
    const name = modelName(geminiModel(node, 'gemini-embedding-001'))
    const dimensions = dimensionsOf(node)
    const taskType = typeof node.opts?.taskType === 'string' ? { taskType: node.opts.taskType } : {}
    return runChunks(texts as string[], client.config.embeddingBatchSize ?? 64, client.policy, async (chunk) => {
      const requests = chunk.map((text) => ({ model: name, content: { parts: [{ text }] }, ...taskType, ...(dimensions ? { outputDimensionality: dimensions } : {}) }))
      const r = (await client.post(node, `/${name}:batchEmbedContents`, { requests })) as { embeddings?: { values: number[] }[] }
      if (!Array.isArray(r.embeddings) || !r.embeddings.every((e) => Array.isArray(e?.values))) throw new Error(`embeddings from ${client.shownBaseUrl(node)}: the response has no embeddings[].values lists: ${JSON.stringify(r).slice(0, 160)}`)
      const out = r.embeddings
      if (out.length !== chunk.length) throw new Error(`embeddings from ${client.shownBaseUrl(node)}: ${out.length} vectors for ${chunk.length} texts`)
      for (const e of out) if (dimensions && e.values.length !== dimensions) throw new Error(`embeddings from ${client.shownBaseUrl(node)} have ${e.values.length} dimensions, expected ${dimensions}`)
      return out.map((e) => e.values)
    })
  },
})

/** Gemini: `gemini.generateContent(t.c.question, { model: 'gemini-2.5-flash', tools })`, `gemini.embeddings(...)`. */
export const gemini = {
  /** The whole generateContent response as JSON (candidates[0].content.parts: text, functionCall). */
  generateContent: (input: ExprLike, opts: GeminiOptions): Expr => call('gemini.generate_content', [input], { ...opts }),
  vision: (prompt: ExprLike, image: ExprLike, opts: GeminiOptions): Expr => call('gemini.vision', [prompt, image], { ...opts }),
  embeddings: (text: ExprLike, opts: GeminiEmbeddingOptions): Expr => call('gemini.embeddings', [text], { ...opts }),
  configure: (config: ProviderConfig): void => client.configure(config),
  client,
}
