import type { IndexMetric } from '../../catalog/index.ts'

// The usearch indexes of this process, driven by plain-data requests: the same code runs in the index worker
// (engine-worker.ts), so that builds, loads and saves never hold the serving thread, or on the calling thread where
// no worker can start (native.ts picks). Every call into usearch is synchronous; the caller sizes add requests so
// that one stays near a time budget, which keeps searches of other indexes waiting at most that long.

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

export type EngineRequest =
  | { readonly op: 'ping' }
  | { readonly op: 'create'; readonly id: number; readonly settings: AnnSettings }
  | { readonly op: 'load'; readonly id: number; readonly settings: AnnSettings; readonly path: string }
  | { readonly op: 'add'; readonly id: number; readonly keys: BigUint64Array; readonly vectors: Float32Array }
  | { readonly op: 'remove'; readonly id: number; readonly keys: BigUint64Array }
  | { readonly op: 'search'; readonly id: number; readonly query: Float32Array; readonly count: number }
  | { readonly op: 'contains'; readonly id: number; readonly keys: BigUint64Array }
  | { readonly op: 'save'; readonly id: number; readonly path: string }
  | { readonly op: 'drop'; readonly id: number }

/** Every answer carries the index's size after the request, so the caller's copy of it stays exact. */
export interface EngineReply {
  readonly size: number
  readonly keys?: BigUint64Array
  readonly distances?: Float32Array
  readonly present?: boolean[]
  /** add: milliseconds usearch took (the caller sizes the next batch by it). */
  readonly ms?: number
  /** load: false when the file was missing, unreadable or of other dimensions. */
  readonly loaded?: boolean
}

type Usearch = typeof import('usearch')
type UIndex = import('usearch').Index

const METRIC: Record<IndexMetric, string> = { cosine: 'cos', ip: 'ip', l2: 'l2sq' }

/** One set of indexes; `usearch` is the loaded module (imported by the caller, so loading it can fail there). */
export class Engine {
  readonly #indexes = new Map<number, UIndex>()

  constructor(readonly usearch: Usearch) {}

  handle(req: EngineRequest): EngineReply {
    switch (req.op) {
      case 'ping':
        return { size: 0 }
      case 'create':
        this.#indexes.set(req.id, this.#make(req.settings))
        return { size: 0 }
      case 'load': {
        const index = this.#make(req.settings)
        try {
          index.load(req.path)
        } catch {
          return { size: 0, loaded: false }
        }
        if (index.dimensions() !== req.settings.dims) return { size: 0, loaded: false }
        this.#indexes.set(req.id, index)
        return { size: Number(index.size()), loaded: true }
      }
      case 'drop':
        this.#indexes.delete(req.id)
        return { size: 0 }
    }
    const index = this.#get(req.id)
    switch (req.op) {
      case 'add': {
        const t0 = performance.now()
        // Adding a key again would keep both vectors; a row re-added (updated, or a catch-up overlapping a build)
        // replaces its old vector.
        const present = this.#contains(index, req.keys)
        const stale = req.keys.filter((_, i) => present[i])
        if (stale.length > 0) index.remove(stale)
        if (req.keys.length > 0) index.add(req.keys, req.vectors, 0)
        return { size: Number(index.size()), ms: performance.now() - t0 }
      }
      case 'remove':
        if (req.keys.length > 0) index.remove(req.keys)
        return { size: Number(index.size()) }
      case 'search': {
        const size = Number(index.size())
        if (size === 0 || req.count < 1) return { size, keys: new BigUint64Array(0), distances: new Float32Array(0) }
        // usearch explores max(count, expansion_search) candidates: a query's own ef is asked as a count.
        const m = index.search(req.query, Math.min(req.count, size), 1)
        return { size, keys: BigUint64Array.from(m.keys), distances: Float32Array.from(m.distances) }
      }
      case 'contains':
        return { size: Number(index.size()), present: this.#contains(index, req.keys) }
      case 'save':
        index.save(req.path)
        return { size: Number(index.size()) }
    }
  }

  #make(settings: AnnSettings): UIndex {
    return new this.usearch.Index({
      dimensions: settings.dims, metric: METRIC[settings.metric] as never, quantization: settings.quantization as never,
      connectivity: settings.m, expansion_add: settings.efConstruction, expansion_search: settings.efSearch, multi: false,
    })
  }

  #get(id: number): UIndex {
    const x = this.#indexes.get(id)
    if (!x) throw new Error(`native index #${id} is not open`)
    return x
  }

  #contains(index: UIndex, keys: BigUint64Array): boolean[] {
    if (keys.length === 0) return []
    const r = index.contains(keys) as boolean[] | boolean
    return Array.isArray(r) ? r : [r]
  }
}
