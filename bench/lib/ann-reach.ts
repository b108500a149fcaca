// Rows an HNSW graph never returns: how many rows a search for the row's own vector does not find, at a wide ef, in
// usearch's graph (as Tessera drives it: f16, inner product on unit vectors, M 16, efConstruction 64; adds in pages on
// all threads, or on one) and in hnswlib-node's graph of the same rows. A row that a search for itself misses at ef
// 500 has (nearly always) no link pointing to it. Behind the README's note that `exact: true` is what finds every
// match, and behind test/index/ann-file-check.test.ts allowing one missed row (usearch issue #735: parallel adds can
// strand a node). Run: npx bun bench/lib/ann-reach.ts [n=20000] [dims=384] [clustered|random]
import * as u from 'usearch'
import { loadavg } from 'node:os'
import { annVectors } from './ann-vectors.ts'
import { hnswlibOrExit } from './hnswlib.ts'

const HierarchicalNSW = await hnswlibOrExit('this comparison needs it')
const n = Number(process.argv[2] ?? 20_000)
const dims = Number(process.argv[3] ?? 384)
const kind = process.argv[4] ?? 'clustered'
const EF = 500
const PAGE = 5_000

const { data } = annVectors(n, dims, 0, kind)
const flat = new Float32Array(n * dims)
data.forEach((v, i) => flat.set(v, i * dims))
const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i))

/** usearch's graph built with adds on `threads` threads (0: all); rows a search for themselves misses. */
function usearchMisses(threads: number): { ms: number; missed: number } {
  const index = new u.Index({ dimensions: dims, metric: 'ip' as never, quantization: 'f16' as never, connectivity: 16, expansion_add: 64, expansion_search: EF, multi: false })
  const t0 = performance.now()
  for (let at = 0; at < n; at += PAGE) index.add(keys.subarray(at, at + PAGE), flat.subarray(at * dims, (at + PAGE) * dims), threads)
  const ms = performance.now() - t0
  let missed = 0
  for (let i = 0; i < n; i++) if (!index.search(data[i]!, 10, 1).keys.includes(BigInt(i))) missed++
  return { ms, missed }
}

function hnswlibMisses(): { ms: number; missed: number } {
  const index = new HierarchicalNSW('ip', dims)
  index.initIndex(n, 16, 64, 100)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) index.addPoint(Array.from(data[i]!), i)
  const ms = performance.now() - t0
  index.setEf(EF)
  let missed = 0
  for (let i = 0; i < n; i++) if (!index.searchKnn(Array.from(data[i]!), 10).neighbors.includes(i)) missed++
  return { ms, missed }
}

const load = () => loadavg().map((x) => x.toFixed(1)).join(' ')
console.log(`rows a search for their own vector misses at ef ${EF}: ${n} ${kind} ${dims}-d, M 16, efConstruction 64; load ${load()}`)
for (const [name, run] of [
  ['usearch f16, adds on all threads', () => usearchMisses(0)],
  ['usearch f16, adds on one thread', () => usearchMisses(1)],
  ['hnswlib-node (adds on one thread)', hnswlibMisses],
] as const) {
  const r = run()
  console.log(`  ${name.padEnd(36)} ${String(r.missed).padStart(6)} of ${n} (${((100 * r.missed) / n).toFixed(2)}%), build ${(r.ms / 1000).toFixed(1)} s; load ${load()}`)
}
