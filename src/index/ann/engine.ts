import type { IndexMetric } from '../../catalog/index.ts'
import { fileCheck, verifyFile } from './file-check.ts'
import type { FileCheck } from './file-check.ts'

export type { FileCheck } from './file-check.ts'

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
  /**
   * `file`: the length and CRC-32 the file had when it was saved (its note's). The file is verified against it before
   * usearch reads it: usearch trusts its files, and a damaged one crashes the process at a later search.
   */
  | { readonly op: 'load'; readonly id: number; readonly settings: AnnSettings; readonly path: string; readonly file: FileCheck }
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
  /** load: false when the file was missing, failed verification, was unreadable or of other dimensions. */
  readonly loaded?: boolean
  /** load, when not loaded: why, said of the file ('failed verification and was not loaded: ...', 'was not loaded: ...'). */
  readonly problem?: string
  /** save: the length and CRC-32 of the file written (for its note). */
  readonly file?: FileCheck
}

type Usearch = typeof import('usearch')
type UIndex = import('usearch').Index

// A cosine index holds unit vectors and is searched by inner product: for unit vectors 1 − dot is the cosine
// distance, and usearch's inner product skips the two norms its cosine computes per comparison — at 100,000 × 384
// (f32, M 16) a search at ef 80 took 0.43–0.49 ms against 0.63, and the build 16 s against 17–20 (BENCHMARKS.md,
// issue 16, tenth session). Scaling never changes a cosine, so answers are the same; an index saved before (usearch
// keeps its metric in the file) still searches by cosine, now with unit vectors, until it is rebuilt. i8 keeps
// usearch's cosine (its int8 kernels are tuned for it); its vectors are made unit too, which is the range its
// quantization expects.
const METRIC: Record<IndexMetric, string> = { cosine: 'cos', ip: 'ip', l2: 'l2sq' }

/** The metric usearch computes for these settings. */
function engineMetric(settings: AnnSettings): string {
  return settings.metric === 'cosine' && settings.quantization !== 'i8' ? 'ip' : METRIC[settings.metric]
}

/** Scales each row of `vectors` (dims wide) to length 1, in place; a zero row stays zero. */
export function normalizeRows(vectors: Float32Array, dims: number): Float32Array {
  for (let at = 0; at + dims <= vectors.length; at += dims) {
    let sum = 0
    for (let i = at; i < at + dims; i++) sum += vectors[i]! * vectors[i]!
    if (sum === 0 || !Number.isFinite(sum)) continue
    const scale = 1 / Math.sqrt(sum)
    for (let i = at; i < at + dims; i++) vectors[i]! *= scale
  }
  return vectors
}

/** A cosine index's vectors and queries are scaled to unit length before usearch sees them (any quantization). */
const holdsUnitVectors = (settings: AnnSettings): boolean => settings.metric === 'cosine'

interface Open {
  readonly index: UIndex
  /** holdsUnitVectors of its settings. */
  readonly unit: boolean
}

/** One set of indexes; `usearch` is the loaded module (imported by the caller, so loading it can fail there). */
export class Engine {
  readonly #indexes = new Map<number, Open>()

  constructor(readonly usearch: Usearch) {}

  handle(req: EngineRequest): EngineReply {
    switch (req.op) {
      case 'ping':
        return { size: 0 }
      case 'create':
        this.#indexes.set(req.id, { index: this.#make(req.settings), unit: holdsUnitVectors(req.settings) })
        return { size: 0 }
      case 'load': {
        // Never an unverified file: usearch would read whatever is there.
        const failed = verifyFile(req.path, req.file)
        if (failed) return { size: 0, loaded: false, problem: `failed verification and was not loaded: ${failed}` }
        const index = this.#make(req.settings)
        try {
          index.load(req.path)
        } catch (e) {
          return { size: 0, loaded: false, problem: `was not loaded: usearch could not read it (${e instanceof Error ? e.message : String(e)})` }
        }
        if (index.dimensions() !== req.settings.dims) return { size: 0, loaded: false, problem: `was not loaded: it holds ${index.dimensions()}-dimensional vectors, not ${req.settings.dims}` }
        this.#indexes.set(req.id, { index, unit: holdsUnitVectors(req.settings) })
        return { size: Number(index.size()), loaded: true }
      }
      case 'drop':
        this.#indexes.delete(req.id)
        return { size: 0 }
    }
    const { index, unit } = this.#get(req.id)
    switch (req.op) {
      case 'add': {
        const t0 = performance.now()
        // Adding a key again would keep both vectors; a row re-added (updated, or a catch-up overlapping a build)
        // replaces its old vector.
        const present = this.#contains(index, req.keys)
        const stale = req.keys.filter((_, i) => present[i])
        if (stale.length > 0) index.remove(stale)
        // The request's vectors are the engine's own (a structured clone, or the caller's slice of its page).
        if (req.keys.length > 0) index.add(req.keys, unit ? normalizeRows(req.vectors, Number(index.dimensions())) : req.vectors, 0)
        return { size: Number(index.size()), ms: performance.now() - t0 }
      }
      case 'remove':
        if (req.keys.length > 0) index.remove(req.keys)
        return { size: Number(index.size()) }
      case 'search': {
        const size = Number(index.size())
        if (size === 0 || req.count < 1) return { size, keys: new BigUint64Array(0), distances: new Float32Array(0) }
        // usearch explores max(count, expansion_search) candidates: a query's own ef is asked as a count.
        const query = unit ? normalizeRows(Float32Array.from(req.query), req.query.length) : req.query
        const m = index.search(query, Math.min(req.count, size), 1)
        return { size, keys: BigUint64Array.from(m.keys), distances: Float32Array.from(m.distances) }
      }
      case 'contains':
        return { size: Number(index.size()), present: this.#contains(index, req.keys) }
      case 'save':
        index.save(req.path)
        // Summed as written (read back from the page cache): what a load verifies.
        return { size: Number(index.size()), file: fileCheck(req.path) }
    }
  }

  #make(settings: AnnSettings): UIndex {
    return new this.usearch.Index({
      dimensions: settings.dims, metric: engineMetric(settings) as never, quantization: settings.quantization as never,
      connectivity: settings.m, expansion_add: settings.efConstruction, expansion_search: settings.efSearch, multi: false,
    })
  }

  #get(id: number): Open {
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
