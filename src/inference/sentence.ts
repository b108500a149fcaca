import { TesseraError } from '../errors.ts'
import { resolveModel } from './models.ts'
import type { Provider } from './runtime.ts'
import { getSession, inBatches, tensor, toNumbers } from './runtime.ts'
import { loadTokenizer } from './tokenizer.ts'

// Sentence embeddings for any sentence-transformers ONNX export: tokenize → model → mean of the token vectors under
// the attention mask → L2 normalise. Models that already output a pooled 'sentence_embedding' are used as is.

export interface SentenceOptions {
  readonly provider?: Provider
  readonly batchSize?: number
  readonly maxLength?: number
}

export async function sentenceEmbed(model: string, texts: readonly string[], options: SentenceOptions = {}): Promise<number[][]> {
  const folder = await resolveModel(model)
  const tokenizer = await loadTokenizer(folder.dir)
  const { session, provider } = await getSession(folder.onnx, options.provider ? { provider: options.provider } : {})
  const pooledName = session.outputNames.find((n) => n === 'sentence_embedding')
  const tokenName = session.outputNames.find((n) => n === 'last_hidden_state' || n === 'token_embeddings') ?? session.outputNames[0]!
  return inBatches(texts, options.batchSize ?? 32, async (slice) => {
    const enc = tokenizer.encode(slice, options.maxLength)
    const [n, len] = enc.dims
    const feeds: Record<string, Awaited<ReturnType<typeof tensor>>> = {}
    for (const name of session.inputNames) {
      if (name === 'input_ids') feeds[name] = await tensor(provider, 'int64', enc.inputIds, [n, len])
      else if (name === 'attention_mask') feeds[name] = await tensor(provider, 'int64', enc.attentionMask, [n, len])
      else if (name === 'token_type_ids') feeds[name] = await tensor(provider, 'int64', new BigInt64Array(n * len), [n, len])
      else throw new TesseraError('COMPUTATION_FAILED', `model '${model}' has input '${name}', which a sentence embedder cannot feed (expected input_ids, attention_mask, token_type_ids)`, { model })
    }
    const out = await session.run(feeds)
    if (pooledName) return normalizeRows(out[pooledName]!.data as Float32Array, n)
    const hidden = out[tokenName]!
    return meanPool(hidden.data as Float32Array, enc.attentionMask, n, len, hidden.dims[2]!)
  })
}

/** Mean of token vectors where the mask is 1, then L2 normalised. */
export function meanPool(hidden: Float32Array, mask: BigInt64Array, n: number, len: number, dims: number): number[][] {
  const out: number[][] = []
  for (let i = 0; i < n; i++) {
    const v = new Float64Array(dims)
    let count = 0
    for (let t = 0; t < len; t++) {
      if (mask[i * len + t] === 0n) continue
      count++
      const off = (i * len + t) * dims
      for (let d = 0; d < dims; d++) v[d]! += hidden[off + d]!
    }
    out.push(normalize(toNumbers(v, 0, dims).map((x) => x / Math.max(count, 1))))
  }
  return out
}

function normalizeRows(data: Float32Array, n: number): number[][] {
  const d = data.length / n
  return Array.from({ length: n }, (_, i) => normalize(toNumbers(data, i * d, d)))
}

export function normalize(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0))
  return norm > 0 ? v.map((x) => x / norm) : v
}
