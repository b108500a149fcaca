// The libraries alone, no Tessera: usearch 2.26.2 against hnswlib-node on the same vectors, the measurement behind
// the choice of usearch for the native index (README, Vector index). Run: npx bun bench/lib/ann-raw.ts
import * as u from 'usearch'
import { hnswlibOrExit } from './hnswlib.ts'

const HierarchicalNSW = await hnswlibOrExit('this comparison needs it')

const N = 20000, D = 384
let seed = 1
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296)
const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand())
const centers = Array.from({ length: 100 }, () => Float32Array.from({ length: D }, gauss))
const gen = () => { const c = centers[Math.floor(rand() * 100)]!; const v = Float32Array.from(c, (x) => x + 0.5 * gauss()); const n = Math.hypot(...v); return v.map((x) => x / n) }
const data = Array.from({ length: N }, gen), queries = Array.from({ length: 200 }, gen)
const flat = new Float32Array(N * D); data.forEach((v, i) => flat.set(v, i * D))
let t0 = performance.now()
const ix = new u.Index({ dimensions: D, metric: 'cos' as never, quantization: 'f32' as never, connectivity: 16, expansion_add: 64, expansion_search: 40, multi: false })
ix.add(BigUint64Array.from({ length: N }, (_, i) => BigInt(i)), flat, 0)
const uBuild = performance.now() - t0
t0 = performance.now()
const h = new HierarchicalNSW('cosine', D); h.initIndex(N, 16, 64, 100)
for (let i = 0; i < N; i++) h.addPoint(Array.from(data[i]!), i)
h.setEf(40)
const hBuild = performance.now() - t0
const lu: number[] = [], lh: number[] = []
for (const q of queries) {
  let s = performance.now(); ix.search(q, 10, 1); lu.push(performance.now() - s)
  const arr = Array.from(q); s = performance.now(); h.searchKnn(arr, 10); lh.push(performance.now() - s)
}
const p50 = (x: number[]) => x.sort((a, b) => a - b)[x.length >> 1]!
console.log(`raw, ${N}x${D} clustered, M16 efC64 ef40: usearch build ${(uBuild / 1000).toFixed(1)} s (threads=all) vs hnswlib ${(hBuild / 1000).toFixed(1)} s (1 thread) → ${(uBuild / hBuild).toFixed(2)}; p50 search usearch ${p50(lu).toFixed(3)} ms vs hnswlib ${p50(lh).toFixed(3)} ms`)
