import { buildModel, gaussianMatrix } from './onnx-proto.ts'
import type { Provider } from './runtime.ts'
import { getSession, inBatches, rows2d, tensor } from './runtime.ts'

// The built-in LEXICAL text embedder: words and character n-grams are hashed into FEATURES buckets, weighted
// (sublinear term frequency), and projected to `dims` by a fixed, seeded Gaussian matrix inside an ONNX graph
// (Gather → weight → ReduceSum → L2 normalise). Texts that share words or word pieces get close vectors; it knows
// nothing about meaning ('car' and 'automobile' are unrelated). It exists so a fresh install can index and search
// text with no model download; use a sentence-transformers model for semantic search.

export const LEXICAL_FEATURES = 8192
export const LEXICAL_DEFAULT_DIMS = 256
export const LEXICAL_DEFAULT_SEED = 1729
const NGRAM_WEIGHT = 0.5

function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** Hashed features of one text: bucket → weight. Words count fully, their 3- and 4-grams half. */
export function lexicalFeatures(text: string, seed = LEXICAL_DEFAULT_SEED): Map<number, number> {
  const counts = new Map<number, number>()
  const add = (f: string, w: number) => {
    const b = fnv1a(f, seed) % LEXICAL_FEATURES
    counts.set(b, (counts.get(b) ?? 0) + w)
  }
  for (const word of text.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []) {
    add(`w:${word}`, 1)
    const padded = `<${word}>`
    for (const n of [3, 4]) for (let i = 0; i + n <= padded.length; i++) add(`g:${padded.slice(i, i + n)}`, NGRAM_WEIGHT)
  }
  for (const [b, c] of counts) counts.set(b, 1 + Math.log(c > 0 ? c : 1))
  return counts
}

/** The ONNX model bytes for (dims, seed): the same on every machine. */
export function lexicalModel(dims = LEXICAL_DEFAULT_DIMS, seed = LEXICAL_DEFAULT_SEED): Uint8Array {
  return buildModel({
    name: `tessera_lexical_${dims}_${seed}`,
    inputs: [
      { name: 'ids', dtype: 'int64', shape: ['batch', 'features'] },
      { name: 'weights', dtype: 'float', shape: ['batch', 'features'] },
    ],
    outputs: [{ name: 'embedding', dtype: 'float', shape: ['batch', dims] }],
    initializers: [
      { name: 'proj', dtype: 'float', dims: [LEXICAL_FEATURES, dims], data: gaussianMatrix(LEXICAL_FEATURES * dims, seed, 1 / Math.sqrt(dims)) },
      { name: 'axis1', dtype: 'int64', dims: [1], data: BigInt64Array.of(1n) },
      { name: 'axis2', dtype: 'int64', dims: [1], data: BigInt64Array.of(2n) },
      { name: 'eps', dtype: 'float', dims: [], data: Float32Array.of(1e-12) },
    ],
    nodes: [
      { op: 'Gather', inputs: ['proj', 'ids'], outputs: ['rows'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['weights', 'axis2'], outputs: ['w3'] },
      { op: 'Mul', inputs: ['rows', 'w3'], outputs: ['weighted'] },
      { op: 'ReduceSum', inputs: ['weighted', 'axis1'], outputs: ['sum'], attrs: { keepdims: 0 } },
      { op: 'ReduceL2', inputs: ['sum'], outputs: ['norm'], attrs: { axes: [1], keepdims: 1 } },
      { op: 'Max', inputs: ['norm', 'eps'], outputs: ['safe'] },
      { op: 'Div', inputs: ['sum', 'safe'], outputs: ['embedding'] },
    ],
  })
}

const models = new Map<string, Uint8Array>()

export interface LexicalOptions {
  readonly dims?: number
  readonly seed?: number
  readonly provider?: Provider
  readonly batchSize?: number
}

/** Embeds texts with the lexical model; each vector has unit length (a text with no words gives zeros). */
export async function lexicalEmbed(texts: readonly string[], options: LexicalOptions = {}): Promise<number[][]> {
  const dims = options.dims ?? LEXICAL_DEFAULT_DIMS
  const seed = options.seed ?? LEXICAL_DEFAULT_SEED
  const key = `tessera:lexical:${dims}:${seed}`
  let bytes = models.get(key)
  if (!bytes) models.set(key, (bytes = lexicalModel(dims, seed)))
  const { session, provider } = await getSession(bytes, { key, ...(options.provider ? { provider: options.provider } : {}) })
  return inBatches(texts, options.batchSize ?? 256, async (slice) => {
    const feats = slice.map((t) => lexicalFeatures(t, seed))
    const width = Math.max(1, ...feats.map((f) => f.size))
    const ids = new BigInt64Array(slice.length * width)
    const weights = new Float32Array(slice.length * width)
    feats.forEach((f, i) => {
      let j = i * width
      for (const [b, w] of f) {
        ids[j] = BigInt(b)
        weights[j++] = w
      }
    })
    const out = await session.run({
      ids: await tensor(provider, 'int64', ids, [slice.length, width]),
      weights: await tensor(provider, 'float32', weights, [slice.length, width]),
    })
    return rows2d(out.embedding!)
  })
}
