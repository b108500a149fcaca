import { invalid } from '../errors.ts'
import { buildModel, gaussianFiller, gaussianMatrix, seededRandom } from './onnx-proto.ts'
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
/**
 * The largest `dims` lexical_embed takes. Its vectors are for embedding indexes, and pgvector's HNSW indexes `vector`
 * columns of up to 2,000 dimensions, so a larger index could not be built on a PostgreSQL server anyway (and past
 * LEXICAL_FEATURES more dims could carry nothing more: texts are hashed into that many buckets). The bound is also
 * what keeps memory in check: the dense projection is LEXICAL_FEATURES × dims float32s (2,000 → 66 MB, ~1.3 s to
 * generate); queries naming dims 10,000 held ~320 MB each and stalled the thread 3 s, and 1,000,000 ran out of memory.
 */
export const LEXICAL_MAX_DIMS = 2000
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

// Projections are kept between calls, but within a budget: each (dims, seed) pair has its own, and a request can
// name any seed, so an unbounded map grew by a matrix per distinct seed and never shrank (issue: +320 MB per query).
// The default pair (what embedders.lexical() and old indexes use) is always kept, outside the budget, so a stream of
// other seeds cannot make the common case rebuild; other pairs are kept least-recently-used first out.

/** Bytes of projections (and generated ONNX models) kept for reuse besides the default pair's: two of the largest. */
export const LEXICAL_CACHE_BYTES = 128 * 2 ** 20

type Kept = Float32Array | SparseProjection | Uint8Array
class ProjectionCache {
  /** Map order is use order: the first entry is the least recently used. */
  readonly #entries = new Map<string, { readonly value: Kept; readonly bytes: number }>()
  readonly #pinned = new Map<string, Kept>()
  #bytes = 0

  constructor(readonly budget: number) {}

  get<V extends Kept>(key: string): V | undefined {
    const pinned = this.#pinned.get(key)
    if (pinned) return pinned as V
    const e = this.#entries.get(key)
    if (!e) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, e)
    return e.value as V
  }

  set(key: string, value: Kept, bytes: number, pin: boolean): void {
    if (pin) return void this.#pinned.set(key, value)
    const old = this.#entries.get(key)
    if (old) (this.#bytes -= old.bytes, this.#entries.delete(key))
    this.#entries.set(key, { value, bytes })
    this.#bytes += bytes
    // The newest entry stays even alone over the budget: the call that asked for it is about to use it.
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.budget || k === key) break
      this.#entries.delete(k)
      this.#bytes -= e.bytes
    }
  }

  /** Tests and diagnostics: what is kept now. */
  stats(): { keys: string[]; bytes: number; pinned: string[] } {
    return { keys: [...this.#entries.keys()], bytes: this.#bytes, pinned: [...this.#pinned.keys()] }
  }

  clear(): void {
    this.#entries.clear()
    this.#pinned.clear()
    this.#bytes = 0
  }
}
const kept = new ProjectionCache(LEXICAL_CACHE_BYTES)
const isDefault = (dims: number, seed: number) => dims === LEXICAL_DEFAULT_DIMS && seed === LEXICAL_DEFAULT_SEED

/** What the projection cache holds (tests): keys least recently used first, their bytes, the pinned default ones. */
export const lexicalCacheStats = () => kept.stats()
/** Empties the projection cache (tests that measure a first build). */
export const clearLexicalCache = () => kept.clear()

/**
 * Refuses dims and seeds the embedder cannot use, before anything is allocated for them. lexical_embed's type check
 * (functions.ts) refuses them first with the expression named; this is the engine's own guard for direct callers.
 */
export function checkLexicalOptions(dims: unknown, seed: unknown): void {
  if (!Number.isInteger(dims) || (dims as number) < 1 || (dims as number) > LEXICAL_MAX_DIMS) {
    throw invalid('INVALID_ARGUMENT', `lexical_embed: dims must be an integer from 1 to ${LEXICAL_MAX_DIMS}, got ${String(dims)}`, { option: 'dims' })
  }
  if (!Number.isSafeInteger(seed)) throw invalid('INVALID_ARGUMENT', `lexical_embed: seed must be a safe integer, got ${String(seed)}`, { option: 'seed' })
}

/** Samples generated between two checks of the clock while building a dense projection (~2-3 ms of work). */
const BUILD_STEP = 32_768
/** Dense projections being built, so concurrent calls for one pair share the build. */
const building = new Map<string, Promise<Float32Array>>()
/** Builds run one after another: at most one matrix outside the cache is being filled at a time. */
let buildQueue: Promise<unknown> = Promise.resolve()

/**
 * The dense projection matrix, [LEXICAL_FEATURES × dims] row-major, as in the ONNX model's initializer. Built in
 * slices with the thread yielded between them: the default 256 dims is ~8M samples (~150 ms), the largest ~16M
 * (~1.3 s), which would otherwise hold every other request for that long.
 */
function denseProjection(dims: number, seed: number): Promise<Float32Array> {
  const key = `dense:${dims}:${seed}`
  const hit = kept.get<Float32Array>(key)
  if (hit) return Promise.resolve(hit)
  let pending = building.get(key)
  if (!pending) {
    pending = buildQueue
      .then(async () => {
        const m = kept.get<Float32Array>(key) ?? (await buildDense(dims, seed))
        kept.set(key, m, m.byteLength, isDefault(dims, seed))
        return m
      })
      .finally(() => building.delete(key))
    buildQueue = pending.catch(() => undefined)
    building.set(key, pending)
  }
  return pending
}

async function buildDense(dims: number, seed: number): Promise<Float32Array> {
  const out = new Float32Array(LEXICAL_FEATURES * dims)
  const fill = gaussianFiller(seed, 1 / Math.sqrt(dims))
  let sliceStart = performance.now()
  for (let i = 0; i < out.length; i += BUILD_STEP) {
    fill(out, i, Math.min(out.length, i + BUILD_STEP))
    if (performance.now() - sliceStart > YIELD_AFTER_MS) {
      await yieldThread()
      sliceStart = performance.now()
    }
  }
  return out
}

const yieldThread = () => new Promise((r) => setTimeout(r, 0))

interface SparseProjection { readonly positions: Int32Array; readonly signs: Float32Array; readonly nonzeros: number }

/**
 * The sparse projection: bucket b adds signs[b·S + j] at dims positions[b·S + j], j < S. Its size does not grow with
 * dims (~1 MB) and it is built in ~10 ms, so it is built in one go.
 */
function sparseProjection(dims: number, seed: number): SparseProjection {
  const key = `sparse:${dims}:${seed}`
  let p = kept.get<SparseProjection>(key)
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
    p = { positions, signs, nonzeros }
    kept.set(key, p, positions.byteLength + signs.byteLength, isDefault(dims, seed))
  }
  return p
}

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

function projectSparse(text: string, p: SparseProjection, seed: number, acc: Float32Array): void {
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
  checkLexicalOptions(dims, seed)
  return buildModel({
    name: `tessera_lexical_${dims}_${seed}`,
    inputs: [
      { name: 'ids', dtype: 'int64', shape: ['batch', 'features'] },
      { name: 'weights', dtype: 'float', shape: ['batch', 'features'] },
    ],
    outputs: [{ name: 'embedding', dtype: 'float', shape: ['batch', dims] }],
    initializers: [
      // Generated here, not taken from the cache: the model bytes hold their own copy (and are kept, below).
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
  checkLexicalOptions(dims, seed)
  if (!options.provider || options.projection === 'sparse') {
    const acc = new Float32Array(dims)
    const project = options.projection === 'sparse'
      ? ((p) => (t: string) => projectSparse(t, p, seed, acc))(sparseProjection(dims, seed))
      : ((m) => (t: string) => projectDense(t, m, dims, seed, acc))(await denseProjection(dims, seed))
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
  let bytes = kept.get<Uint8Array>(`onnx:${dims}:${seed}`)
  if (!bytes) {
    // Synchronous (~1.3 s at the largest dims), but only this reference path builds it: queries and indexes never
    // pass a provider (functions.ts), so no request reaches it.
    bytes = lexicalModel(dims, seed)
    kept.set(`onnx:${dims}:${seed}`, bytes, bytes.byteLength, isDefault(dims, seed))
  }
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
