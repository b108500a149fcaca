import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import type { IndexMetric } from '../../catalog/metadata.ts'

// The native HNSW graph: usearch (C++, prebuilt for linux/macOS/windows, the library DuckDB's vector search uses).
// Calls into it are synchronous, so adds go in batches sized to stay under a time budget per call, with a yield to
// the event loop between (see addInSlices); searches take well under a millisecond or two.

export type Quantization = 'f32' | 'f16' | 'i8'

export interface AnnSettings {
  readonly metric: IndexMetric
  readonly dims: number
  /** Graph degree (HNSW M). */
  readonly m: number
  readonly efConstruction: number
  readonly efSearch: number
  readonly quantization: Quantization
}

export const ANN_DEFAULTS = { m: 16, efConstruction: 64, efSearch: 40, quantization: 'f32' } as const

type UsearchModule = typeof import('usearch')
let usearch: Promise<UsearchModule> | undefined
// Loaded on first use, so a process that never searches vectors on the embedded store never loads the addon.
const load = (): Promise<UsearchModule> => (usearch ??= import('usearch'))

const METRIC: Record<IndexMetric, string> = { cosine: 'cos', ip: 'ip', l2: 'l2sq' }

/** One usearch index; keys are the table's _rowid. */
export class NativeIndex {
  readonly #index: import('usearch').Index
  readonly settings: AnnSettings

  private constructor(index: import('usearch').Index, settings: AnnSettings) {
    this.#index = index
    this.settings = settings
  }

  static async create(settings: AnnSettings): Promise<NativeIndex> {
    const u = await load()
    const index = new u.Index({
      dimensions: settings.dims, metric: METRIC[settings.metric] as never, quantization: settings.quantization as never,
      connectivity: settings.m, expansion_add: settings.efConstruction, expansion_search: settings.efSearch, multi: false,
    })
    return new NativeIndex(index, settings)
  }

  /** Loads a saved index; undefined when the file is missing or unreadable (the caller rebuilds). */
  static async open(path: string, settings: AnnSettings): Promise<NativeIndex | undefined> {
    if (!existsSync(path)) return undefined
    const ix = await NativeIndex.create(settings)
    try {
      ix.#index.load(path)
    } catch {
      return undefined
    }
    return ix.#index.dimensions() === settings.dims ? ix : undefined
  }

  get size(): number {
    return Number(this.#index.size())
  }

  /** Adds (or replaces) vectors; synchronous, so callers keep batches small (addInSlices). */
  add(keys: BigUint64Array, vectors: Float32Array): void {
    const present = this.#index.contains(keys) as boolean[] | boolean
    const list = Array.isArray(present) ? present : [present]
    const stale = keys.filter((_, i) => list[i])
    if (stale.length > 0) this.#index.remove(stale)
    this.#index.add(keys, vectors, 0)
  }

  remove(keys: BigUint64Array): void {
    if (keys.length > 0) this.#index.remove(keys)
  }

  /**
   * The `count` nearest keys to `query` with their distances (usearch explores max(count, efSearch) candidates).
   * Distances follow usearch's metric: 1 − cosine, 1 − dot, or squared L2 — the order of pgvector's.
   */
  search(query: Float32Array, count: number): { keys: BigUint64Array; distances: Float32Array } {
    if (this.size === 0) return { keys: new BigUint64Array(0), distances: new Float32Array(0) }
    const m = this.#index.search(query, Math.min(count, this.size), 1)
    return { keys: m.keys, distances: m.distances }
  }

  contains(keys: BigUint64Array): boolean[] {
    const r = this.#index.contains(keys) as boolean[] | boolean
    return Array.isArray(r) ? r : [r]
  }

  /** Writes to `path` through a temporary file, so a crash leaves the old file or the new one, never half of one. */
  save(path: string): void {
    mkdirSync(dirname(path), { recursive: true })
    const tmp = `${path}.tmp`
    this.#index.save(tmp)
    renameSync(tmp, path)
  }
}

export function removeIndexFiles(path: string): void {
  for (const p of [path, `${path}.tmp`, metaPath(path)]) rmSync(p, { force: true })
}

export const metaPath = (path: string): string => `${path}.json`

/**
 * Adds rows in calls that each stay near `budgetMs` of blocking: the batch size adapts to the measured rate, with a
 * macrotask yield between calls so requests and timers run in between.
 */
export async function addInSlices(index: NativeIndex, keys: BigUint64Array, vectors: Float32Array, budgetMs = 30, isCancelled: () => boolean = () => false): Promise<void> {
  const dims = index.settings.dims
  let batch = 32
  for (let i = 0; i < keys.length; ) {
    if (isCancelled()) return
    const n = Math.min(batch, keys.length - i)
    const t0 = performance.now()
    index.add(keys.subarray(i, i + n), vectors.subarray(i * dims, (i + n) * dims))
    const ms = performance.now() - t0
    i += n
    batch = Math.max(8, Math.min(4096, Math.round(n * (budgetMs / Math.max(ms, 0.5)))))
    await new Promise((r) => setTimeout(r, 0))
  }
}

/** A distance in the native index's terms, for rows it does not hold yet (ranked together with its candidates). */
export function nativeDistance(metric: AnnSettings['metric'], a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0, l2 = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!
    dot += x * y
    na += x * x
    nb += y * y
    l2 += (x - y) * (x - y)
  }
  return metric === 'cosine' ? 1 - dot / (Math.sqrt(na * nb) || 1) : metric === 'ip' ? 1 - dot : l2
}
