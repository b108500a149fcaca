// One peer of the vector-search comparison (bench/embedding.ts ann): builds its index over the shared generated
// vectors in this process alone (so RSS is its own), runs the same queries, prints one JSON line.
// Run: npx bun bench/lib/ann-peer.ts <tessera|hnswlib|lancedb> <N> <random|clustered> <dims> [f32|f16|i8 (Tessera's quantization)]
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { annVectors } from './ann-vectors.ts'
import { hnswlibOrExit } from './hnswlib.ts'

const [peer, nArg, kind, dArg, qArg] = process.argv.slice(2)
// 'default': the index names none, so Tessera's default for cosine applies (f16, src/index/ann/native.ts).
const QUANTIZATION = (qArg ?? 'default') as 'default' | 'f32' | 'f16' | 'i8'
const N = Number(nArg), D = Number(dArg), Q = 100, K = 10
const M = 16, EFC = 64
// Two settings of efSearch, every peer at each: Tessera's default for this size (ef.ts; the peers are given the same
// number, so "default" compares at the same ef) and 40 (the peers' usual default, what earlier rounds measured).
const { defaultEfSearch } = await import('../../src/index/ann/ef.ts')
const SETTINGS = [{ name: 'default', ef: defaultEfSearch(K, N) }, { name: 'ef40', ef: 40 }] as const
type Ef = { readonly name: string; readonly ef: number }

// Each measurement first runs 200 other queries, not measured (ann-vectors.ts: a few measured Tessera's WebAssembly
// store at its start, not its steady speed).
const { data, queries, warmQueries } = annVectors(N, D, Q, kind!, 200)
const cat = Int32Array.from({ length: N }, (_, i) => i % 100)
const FILTERS = [1, 10, 50] // % of rows kept: cat < p

function truth(q: Float32Array, p: number): number[] {
  const scored: [number, number][] = []
  for (let i = 0; i < N; i++) {
    if (cat[i]! >= p) continue
    let d = 0
    const v = data[i]!
    for (let j = 0; j < D; j++) d += v[j]! * q[j]!
    scored.push([i, d])
  }
  return scored.sort((a, b) => b[1] - a[1]).slice(0, K).map((x) => x[0])
}
// Every directory a peer makes is removed at exit (a 20k Tessera home is ~270 MB).
const made: string[] = []
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ann-bench-'))
  made.push(dir)
  return dir
}
const dirSize = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((s, e) => s + statSync(join(e.parentPath, e.name)).size, 0)

interface Peer {
  build(): Promise<void>
  /** The index on the filter column (`cat`) that filtered searches use: Tessera's scalar index, LanceDB's b-tree. */
  scalarIndex?(): Promise<void>
  search(q: Float32Array, p: number, ef: Ef): Promise<number[]>
  diskBytes(): Promise<number>
}

async function tessera(): Promise<Peer> {
  const { Tessera } = await import('../../src/index.ts')
  const { vectorIndexesOf } = await import('../../src/index/index.ts')
  const home = tempDir()
  const db = await Tessera.open({ home })
  const t = await db.createTable('v', { id: 'int', cat: 'int', emb: `array<float32>[${D}]` })
  const load0 = performance.now()
  for (let i = 0; i < N; i += 1000) await t.insert(data.slice(i, i + 1000).map((v, j) => ({ id: i + j, cat: cat[i + j]!, emb: Array.from(v) })))
  console.error(`tessera: rows stored in ${((performance.now() - load0) / 1000).toFixed(1)} s (not part of build)`)
  return {
    async build() {
      Bun.gc(true)
      const rssBefore = process.memoryUsage().rss / 2 ** 20
      const t0 = performance.now()
      await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine', m: M, efConstruction: EFC, ...(QUANTIZATION === 'default' ? {} : { quantization: QUANTIZATION }) })
      const t1 = performance.now()
      const [entry] = vectorIndexesOf(db.driver)!.entries(t.id)
      await entry!.settled()
      // Where the build went: the index column's commit, then the native fill (reads of vectors overlap the adds).
      const fill = entry!.lastFill
      console.error(`tessera build split (${entry!.native?.settings.quantization}): addEmbeddingIndex ${(t1 - t0).toFixed(0)} ms; native fill of ${fill?.rows} rows: waiting for vector pages ${fill?.readWaitMs.toFixed(0)} ms, adding ${fill?.addMs.toFixed(0)} ms (in usearch ${fill?.engineMs.toFixed(0)} ms); RSS with the rows stored, before the build: ${rssBefore.toFixed(0)} MB`)
    },
    async scalarIndex() {
      await t.addScalarIndex('cat')
    },
    async search(q, p, ef) {
      // The default setting names no efSearch: the index's default rule picks it.
      const sim = t.c.emb.similarity({ vector: q }, ef.name === 'default' ? {} : { efSearch: ef.ef })
      const base = p >= 100 ? t.query() : t.where(t.c.cat.lt(p))
      return (await base.orderBy(sim, 'desc').limit(K).select({ id: t.c.id }).collect()).rows.map((r) => r.id as number)
    },
    async diskBytes() {
      await db.close()
      return dirSize(join(home, 'indexes'))
    },
  }
}

async function hnswlib(): Promise<Peer> {
  // Without it the comparison (bench/embedding.ts) prints the line this leaves on stderr and shows the peer as missing.
  const HierarchicalNSW = await hnswlibOrExit()
  const dir = tempDir()
  const index = new HierarchicalNSW('cosine', D)
  return {
    async build() {
      index.initIndex(N, M, EFC, 100)
      for (let i = 0; i < N; i++) index.addPoint(Array.from(data[i]!), i)
    },
    async search(q, p, ef) {
      index.setEf(ef.ef)
      const arr = Array.from(q)
      return p >= 100 ? index.searchKnn(arr, K).neighbors : index.searchKnn(arr, K, (label: number) => cat[label]! < p).neighbors
    },
    async diskBytes() {
      await index.writeIndex(join(dir, 'index.bin'))
      return dirSize(dir)
    },
  }
}

async function lancedb(): Promise<Peer> {
  const lance = await import('@lancedb/lancedb')
  const dir = tempDir()
  const conn = await lance.connect(dir)
  let table: Awaited<ReturnType<typeof conn.createTable>>
  // The data and the vector index, as built: the filter column's b-tree, made after, is not counted.
  let builtBytes = 0
  return {
    async build() {
      table = await conn.createTable('v', data.map((v, i) => ({ id: i, cat: cat[i]!, vector: Array.from(v) })))
      await table.createIndex('vector', { config: lance.Index.hnswSq({ distanceType: 'cosine', numPartitions: 1, m: M, efConstruction: EFC }) })
      builtBytes = dirSize(dir)
    },
    async scalarIndex() {
      await table.createIndex('cat', { config: lance.Index.btree() })
    },
    async search(q, p, ef) {
      let query = table.vectorSearch(Array.from(q)).distanceType('cosine').ef(ef.ef).limit(K).select(['id'])
      if (p < 100) query = query.where(`cat < ${p}`)
      return (await query.toArray()).map((r: { id: number }) => Number(r.id))
    },
    async diskBytes() {
      return builtBytes
    },
  }
}

const impl = await ({ tessera, hnswlib, lancedb } as Record<string, () => Promise<Peer>>)[peer!]!()
const b0 = performance.now()
await impl.build()
const buildMs = performance.now() - b0
Bun.gc(true)
const rssMb = process.memoryUsage().rss / 2 ** 20
type Result = { p50: number; recall: number; short: number }
const results: Record<string, Result> = {}
const want = new Map<number, number[][]>()
for (const p of [100, ...FILTERS]) want.set(p, queries.map((q) => truth(q, p)))
async function measure(p: number, ef: Ef): Promise<Result> {
  // Queries first, not measured (other than the measured ones): the first of a kind plans its statements, and every
  // peer's code is warm.
  for (const q of warmQueries) await impl.search(q, p, ef)
  const lat: number[] = []
  let hits = 0, short = 0
  for (const [i, q] of queries.entries()) {
    const t0 = performance.now()
    const got = await impl.search(q, p, ef)
    lat.push(performance.now() - t0)
    if (got.length < K) short++
    hits += got.filter((id) => want.get(p)![i]!.includes(id)).length
  }
  lat.sort((a, b) => a - b)
  return { p50: lat[Math.floor(lat.length / 2)]!, recall: hits / (Q * K), short }
}
// The 1% filter before the filter column has its index (Tessera lists the filter's rows by reading every row).
results['noscalar/1'] = await measure(1, SETTINGS[0])
const s0 = performance.now()
await impl.scalarIndex?.()
const scalarIndexMs = performance.now() - s0
for (const ef of SETTINGS) for (const p of [100, ...FILTERS]) results[`${ef.name}/${p}`] = await measure(p, ef)
const diskMb = (await impl.diskBytes()) / 2 ** 20
console.log(JSON.stringify({ peer, N, kind, D, buildMs, rssMb, diskMb, scalarIndexMs, efs: SETTINGS, results }))
for (const dir of made) rmSync(dir, { recursive: true, force: true })
process.exit(0)
