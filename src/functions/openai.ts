import { runChunks } from '../compute/calls.ts'
import { TesseraError } from '../errors.ts'
import { restrictedCaller } from '../media/index.ts'
import type { CallPolicy } from '../compute/calls.ts'
import { RateLimiter, Semaphore } from '../compute/rate-limit.ts'
import { checkResponse, TransientError } from '../compute/retry.ts'
import type { RetryOptions } from '../compute/retry.ts'
import { call } from '../query/expr.ts'
import type { Expr, ExprLike } from '../query/expr.ts'
import type { FnNode } from '../query/nodes/index.ts'
import { expectKinds, scalar, t, typeError } from '../query/registry.ts'

// An OpenAI-compatible client (OpenAI, Ollama, vLLM, llama.cpp server...): chat completions and embeddings as
// functions usable in queries and computed columns. The base URL and key come from configure(), else the environment
// (TESSERA_OPENAI_BASE_URL / OPENAI_BASE_URL, TESSERA_OPENAI_API_KEY / OPENAI_API_KEY); they are never stored in an
// expression, so the catalog holds no secret. Calls share one policy: concurrency, optional rate limit, retries on
// 408/429/5xx and network errors. A permanent failure (400) fails that row only under onError: 'ignore'.

export interface OpenAIConfig {
  readonly baseUrl?: string
  readonly apiKey?: string
  /** Extra headers (organisation, project, proxies). */
  readonly headers?: Record<string, string>
  /** Requests in flight at once, over all columns and queries (default 8). */
  readonly concurrency?: number
  readonly rateLimit?: { readonly perSecond: number }
  /** Default: 4 retries, 500 ms first backoff. */
  readonly retries?: RetryOptions
  /** Per request (default 120 s). */
  readonly timeoutMs?: number
  /** Texts per embeddings request (default 64). */
  readonly embeddingBatchSize?: number
}

let config: OpenAIConfig = {}
let policy: CallPolicy = buildPolicy(config)

function buildPolicy(c: OpenAIConfig): CallPolicy {
  return {
    semaphore: new Semaphore(c.concurrency ?? 8),
    ...(c.rateLimit ? { limiter: new RateLimiter(c.rateLimit.perSecond) } : {}),
    retries: c.retries ?? { max: 4, backoffMs: 500 },
  }
}

/** Sets client options for this process (merged into the current ones). */
export function configure(options: OpenAIConfig): void {
  config = { ...config, ...options }
  policy = buildPolicy(config)
}

/** The server's API key goes to whatever base URL is used: a scoped token may not choose one (it could collect the key). */
function checkBaseUrlOption(node: FnNode): void {
  const who = node.opts?.baseUrl !== undefined ? restrictedCaller() : undefined
  if (who) throw new TesseraError('FORBIDDEN', `${who} may not set opts.baseUrl of ${node.fn}(): the server's base URL (TESSERA_OPENAI_BASE_URL) is used with its API key; only admin tokens choose another`)
}

function baseUrl(node: FnNode): string {
  const fromOpts = typeof node.opts?.baseUrl === 'string' ? node.opts.baseUrl : undefined
  checkBaseUrlOption(node) // again at call time: a background job may outlive the request that planned it
  const url = fromOpts ?? config.baseUrl ?? process.env.TESSERA_OPENAI_BASE_URL ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'
  return url.replace(/\/+$/, '')
}

async function post(node: FnNode, path: string, body: unknown): Promise<unknown> {
  const key = config.apiKey ?? process.env.TESSERA_OPENAI_API_KEY ?? process.env.OPENAI_API_KEY
  const url = `${baseUrl(node)}${path}`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...config.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(config.timeoutMs ?? 120_000),
    })
  } catch (e) {
    // Timeouts and refused connections are worth a retry; the message names the endpoint, never the key.
    throw new TransientError(`POST ${url} failed: ${(e as Error).message ?? e}`, { cause: e })
  }
  await checkResponse(res, `POST ${url}`)
  return res.json()
}

function modelOf(node: FnNode): string {
  const m = node.opts?.model
  if (typeof m !== 'string' || m === '') throw typeError(node, `${node.fn}() needs opts.model, e.g. 'gpt-4o-mini'`)
  return m
}

/** Extra request fields passed through (temperature, max_tokens...), without Tessera's own options. */
function passThrough(node: FnNode): Record<string, unknown> {
  const { model: _m, baseUrl: _b, system: _s, dimensions: _d, ...rest } = node.opts ?? {}
  return rest
}

type Message = { role: string; content: unknown }
function messagesOf(input: unknown, node: FnNode): Message[] {
  const system = typeof node.opts?.system === 'string' ? [{ role: 'system', content: node.opts.system }] : []
  if (typeof input === 'string') return [...system, { role: 'user', content: input }]
  if (Array.isArray(input) && input.every((m) => m && typeof m === 'object' && 'role' in m)) return [...system, ...(input as Message[])]
  throw new TypeError(`openai.chat() needs a prompt string or a list of {role, content} messages, got ${JSON.stringify(input)?.slice(0, 80)}`)
}

// openai.chat(prompt | messages, { model, system?, temperature?, max_tokens? }) → the first choice's text.
scalar({
  name: 'openai.chat', minArgs: 1, maxArgs: 1, deterministic: false,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string', 'json']), modelOf(node), checkBaseUrlOption(node), t('string', true)),
  evalBatch: async ([inputs], node) => {
    const model = modelOf(node)
    return runChunks(inputs!, 1, policy, async ([input]) => {
      const r = (await post(node, '/chat/completions', { model, messages: messagesOf(input, node), ...passThrough(node) })) as { choices?: { message?: { content?: string | null } }[] }
      const content = r.choices?.[0]?.message?.content
      if (content === undefined) throw new Error(`chat completion from ${baseUrl(node)} has no choices[0].message.content`)
      return [content]
    })
  },
})

function dimensionsOf(node: FnNode): number | undefined {
  const d = node.opts?.dimensions
  if (d === undefined) return undefined
  if (!Number.isInteger(d) || (d as number) <= 0) throw typeError(node, `openai.embeddings() dimensions must be a positive integer, got ${JSON.stringify(d)}`)
  return d as number
}

// openai.embeddings(text, { model, dimensions? }) → array<float32>[dimensions]; texts are sent in batches.
scalar({
  name: 'openai.embeddings', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => {
    checkBaseUrlOption(node)
    expectKinds(node, types, 0, ['string'])
    modelOf(node)
    const d = dimensionsOf(node)
    return { kind: 'array', dtype: 'float32', nullable: true, ...(d ? { shape: [d] } : {}) }
  },
  evalBatch: async ([texts], node) => {
    const model = modelOf(node)
    const dimensions = dimensionsOf(node)
    return runChunks(texts as string[], config.embeddingBatchSize ?? 64, policy, async (chunk) => {
      const r = (await post(node, '/embeddings', { model, input: chunk, ...(dimensions ? { dimensions } : {}), ...passThrough(node) })) as { data?: { index?: number; embedding: number[] }[] }
      const data = [...(r.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      if (data.length !== chunk.length) throw new Error(`embeddings from ${baseUrl(node)}: ${data.length} vectors for ${chunk.length} texts`)
      for (const d of data) {
        if (dimensions && d.embedding.length !== dimensions) throw new Error(`embeddings from ${baseUrl(node)} have ${d.embedding.length} dimensions, expected ${dimensions}`)
      }
      return data.map((d) => d.embedding)
    })
  },
})

export interface ChatOptions {
  readonly model: string
  readonly system?: string
  readonly baseUrl?: string
  readonly temperature?: number
  readonly max_tokens?: number
  readonly [field: string]: unknown
}
export interface EmbeddingOptions {
  readonly model: string
  readonly dimensions?: number
  readonly baseUrl?: string
}

/** `openai.chat(docs.c.question, { model: 'gpt-4o-mini' })`, `openai.embeddings(docs.c.text, { model, dimensions })`. */
export const openai = {
  chat: (input: ExprLike, options: ChatOptions): Expr => call('openai.chat', [input], { ...options }),
  embeddings: (text: ExprLike, options: EmbeddingOptions): Expr => call('openai.embeddings', [text], { ...options }),
  configure,
}
