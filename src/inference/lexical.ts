import { buildModel, gaussianMatrix, seededRandom } from './onnx-proto.ts'
import type { Provider } from './runtime.ts'
import { getSession, inBatches, rows2d, tensor } from './runtime.ts'

// The built-in LEXICAL text embedder: words and character n-grams are hashed into FEATURES buckets, weighted
// (sublinear term frequency), and projected to `dims` by a fixed, seeded random matrix, then L2-normalised. Texts
// that share words or word pieces get close vectors; it knows nothing about meaning ('car' and 'automobile' are
// unrelated). It exists so a fresh install can index and search text with no model download; use a
// sentence-transformers model for semantic search.
//
// Two projections, named in the embedder's options so stored vectors always meet query vectors made the same way:
// - 'sparse' (embedders.lexical() today): each bucket adds ±1/4 to 16 seeded dimensions (a sparse Johnson–
//   Lindenstrauss projection; with 8 the rankings of a small test corpus drifted from the dense one's, 16 kept them) —
//   ~2,200 additions a text instead of ~35,000 multiply-adds, which is what brings it past 20,000 texts/s on a core.
// - 'dense' (indexes created before; their opts have no `projection`): a Gaussian [FEATURES × dims] matrix, the
//   ONNX graph lexicalModel() describes (Gather → weight → ReduceSum → L2 normalise), computed here in JS.

export const LEXICAL_FEATURES = 8192
export const LEXICAL_DEFAULT_DIMS = 256
export const LEXICAL_DEFAULT_SEED = 1729
const NGRAM_WEIGHT = 0.5
/** Embedding work between two yields of the thread (lexicalEmbed). */
const YIELD_AFTER_MS = 8

function fnv1a(s: string, seed: number): number {
  return fnvChars(fnvStart(seed), s, 0, s.length)
}

const fnvStart = (seed: number): number => (0x811c9dc5 ^ seed) >>> 0

/** FNV-1a continued over s[from, to): the hash of a prefix's state plus those characters. */
function fnvChars(h: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

const WORD_RE = /[\p{L}\p{N}]+/gu

/** Hashed features of one text: bucket → weight. Words count fully, their 3- and 4-grams half. */
export function lexicalFeatures(text: string, seed = LEXICAL_DEFAULT_SEED): Map<number, number> {
  const counts = new Map<number, number>()
  const add = (b: number, w: number) => counts.set(b, (counts.get(b) ?? 0) + w)
  // The hashes of 'w:' + word and 'g:' + gram, without building those strings: continue from the prefix's state.
  const wordStart = fnvChars(fnvStart(seed), 'w:', 0, 2)
  const gramStart = fnvChars(fnvStart(seed), 'g:', 0, 2)
  for (const word of text.toLowerCase().normalize('NFKC').match(WORD_RE) ?? []) {
    add(fnvChars(wordStart, word, 0, word.length) % LEXICAL_FEATURES, 1)
    const padded = `<${word}>`
    for (const n of [3, 4]) for (let i = 0; i + n <= padded.length; i++) add(fnvChars(gramStart, padded, i, i + n) % LEXICAL_FEATURES, NGRAM_WEIGHT)
  }
  for (const [b, c] of counts) counts.set(b, 1 + Math.log(c > 0 ? c : 1))
  return counts
}

export type LexicalProjection = 'dense' | 'sparse'
const SPARSE_NONZEROS = 16

/**
 * The same features as lexicalFeatures, into reusable buffers (no Map, no strings per n-gram): bucket → summed raw
 * count in `counts` (zeroed again by the caller), touched buckets listed in `touched`; returns how many.
 */
function featuresInto(text: string, seed: number, counts: Float64Array, touched: Int32Array): number {
  const wordStart = fnvChars(fnvStart(seed), 'w:', 0, 2)
  const gramStart = fnvChars(fnvStart(seed), 'g:', 0, 2)
  let n = 0
  const add = (b: number, w: number) => {
    if (counts[b] === 0 && n < touched.length) touched[n++] = b
    counts[b]! += w
  }
  for (const word of text.toLowerCase().normalize('NFKC').match(WORD_RE) ?? []) {
    add(fnvChars(wordStart, word, 0, word.length) % LEXICAL_FEATURES, 1)
    const padded = `<${word}>`
    for (let len = 3; len <= 4; len++) for (let i = 0; i + len <= padded.length; i++) add(fnvChars(gramStart, padded, i, i + len) % LEXICAL_FEATURES, NGRAM_WEIGHT)
  }
  return n
}

/** The dense projection matrix, [LEXICAL_FEATURES × dims] row-major, as in the ONNX model's initializer. */
function projection(dims: number, seed: number): Float32Array {
  const key = `${dims}:${seed}`
  let m = projections.get(key)
  if (!m) projections.set(key, (m = gaussianMatrix(LEXICAL_FEATURES * dims, seed, 1 / Math.sqrt(dims))))
  return m
}
const projections = new Map<string, Float32Array>()

/** The sparse projection: bucket b adds signs[b·S + j] at dims positions[b·S + j], j < S. */
function sparseProjection(dims: number, seed: number): { positions: Int32Array; signs: Float32Array; nonzeros: number } {
  const key = `${dims}:${seed}`
  let p = sparse.get(key)
  if (!p) {
    const nonzeros = Math.min(SPARSE_NONZEROS, dims)
    const rand = seededRandom(seed ^ 0x5bd1e995)
    const positions = new Int32Array(LEXICAL_FEATURES * nonzeros)
    const signs = new Float32Array(LEXICAL_FEATURES * nonzeros)
    const scale = 1 / Math.sqrt(nonzeros)
    for (let i = 0; i < positions.length; i++) {
      positions[i] = Math.floor(rand() * dims)
      signs[i] = rand() < 0.5 ? -scale : scale
    }
    sparse.set(key, (p = { positions, signs, nonzeros }))
  }
  return p
}
const sparse = new Map<string, { positions: Int32Array; signs: Float32Array; nonzeros: number }>()

/** Adds one text's projected features into acc (zeroed first). */
function projectDense(text: string, proj: Float32Array, dims: number, seed: number, acc: Float32Array): void {
  acc.fill(0)
  for (const [b, w] of lexicalFeatures(text, seed)) {
    // A subarray per row and a 4-way unrolled loop: measured ~3x faster under Bun than indexing proj[row + d].
    const row = proj.subarray(b * dims, b * dims + dims)
    let d = 0
    for (; d + 4 <= dims; d += 4) {
      acc[d]! += row[d]! * w
      acc[d + 1]! += row[d + 1]! * w
      acc[d + 2]! += row[d + 2]! * w
      acc[d + 3]! += row[d + 3]! * w
    }
    for (; d < dims; d++) acc[d]! += row[d]! * w
  }
}

const scratch = { counts: new Float64Array(LEXICAL_FEATURES), touched: new Int32Array(LEXICAL_FEATURES) }

function projectSparse(text: string, p: ReturnType<typeof sparseProjection>, seed: number, acc: Float32Array): void {
  acc.fill(0)
  const { positions, signs, nonzeros } = p
  const { counts, touched } = scratch
  const n = featuresInto(text, seed, counts, touched)
  for (let t = 0; t < n; t++) {
    const b = touched[t]!
    const w = 1 + Math.log(counts[b]!)
    counts[b] = 0
    for (let j = b * nonzeros, end = j + nonzeros; j < end; j++) acc[positions[j]!]! += signs[j]! * w
  }
}

/** acc L2-normalised into a plain array (zeros stay zeros). */
function normalized(acc: Float32Array): number[] {
  const dims = acc.length
  let norm = 0
  for (let d = 0; d < dims; d++) norm += acc[d]! * acc[d]!
  const inv = 1 / Math.max(Math.fround(Math.sqrt(norm)), 1e-12)
  const out = new Array<number>(dims)
  for (let d = 0; d < dims; d++) out[d] = Math.fround(acc[d]! * inv)
  return out
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
      { name: 'proj', dtype: 'float', dims: [LEXICAL_FEATURES, dims], data: projection(dims, seed) },
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
  /** 'dense' (default here: what indexes made before 'sparse' existed store) or 'sparse'. */
  readonly projection?: LexicalProjection
  /** Run the dense projection as its ONNX graph on this provider (the reference; same vectors to float rounding). */
  readonly provider?: Provider
  readonly batchSize?: number
}

/** Embeds texts with the lexical model; each vector has unit length (a text with no words gives zeros). */
export async function lexicalEmbed(texts: readonly string[], options: LexicalOptions = {}): Promise<number[][]> {
  const dims = options.dims ?? LEXICAL_DEFAULT_DIMS
  const seed = options.seed ?? LEXICAL_DEFAULT_SEED
  if (!options.provider || options.projection === 'sparse') {
    const acc = new Float32Array(dims)
    const project = options.projection === 'sparse'
      ? ((p) => (t: string) => projectSparse(t, p, seed, acc))(sparseProjection(dims, seed))
      : ((m) => (t: string) => projectDense(t, m, dims, seed, acc))(projection(dims, seed))
    const out: number[][] = []
    // Slices of about YIELD_AFTER_MS with a yield between, so a big insert's embedding does not hold the serving
    // thread. By time, not by count: a slice of 1,024 texts was ~35 ms sparse but ~130 ms with the dense projection
    // (an index created over HTTP with `opts: {}`), and point reads over HTTP waited behind it (issue 15, load (a)).
    let sliceStart = performance.now()
    for (let i = 0; i < texts.length; i++) {
      if ((i & 31) === 0 && performance.now() - sliceStart > YIELD_AFTER_MS) {
        await new Promise((r) => setTimeout(r, 0))
        sliceStart = performance.now()
      }
      project(texts[i]!)
      out.push(normalized(acc))
    }
    return out
  }
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
