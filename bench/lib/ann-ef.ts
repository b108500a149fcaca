// Recall@10 against efSearch as an index grows, the libraries alone (usearch as Tessera drives it, and hnswlib-node),
// on the vectors bench/lib/ann-peer.ts generates (the same seed): the measurement behind the default efSearch rule
// (src/index/ann/ef.ts). Run: npx bun bench/lib/ann-ef.ts [sizes=25000,50000,100000] [clustered|random] [efs=10,20,40,64,96,128,192]
import * as u from 'usearch'
import { hnswlibOrExit } from './hnswlib.ts'
import { loadavg } from 'node:os'
import { annVectors } from './ann-vectors.ts'

const HierarchicalNSW = await hnswlibOrExit('this comparison needs it')

const sizes = (process.argv[2] ?? '25000,50000,100000').split(',').map(Number)
const kind = process.argv[3] ?? 'clustered'
const efs = (process.argv[4] ?? '10,20,40,64,96,128,192').split(',').map(Number)
const D = 384, Q = 100, K = 10, N = Math.max(...sizes)

const { data, queries } = annVectors(N, D, Q, kind!)

function truth(q: Float32Array, n: number): number[] {
  const scored: [number, number][] = []
  for (let i = 0; i < n; i++) {
    let d = 0
    const v = data[i]!
    for (let j = 0; j < D; j++) d += v[j]! * q[j]!
    scored.push([i, d])
  }
  return scored.sort((a, b) => b[1] - a[1]).slice(0, K).map((x) => x[0])
}
const p50 = (x: number[]) => x.sort((a, b) => a - b)[x.length >> 1]!

console.log(`recall@10 vs ef, ${kind} ${D}-d, M16 efC64, ${Q} queries; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
const ix = new u.Index({ dimensions: D, metric: 'cos' as never, quantization: 'f32' as never, connectivity: 16, expansion_add: 64, expansion_search: 1, multi: false })
const h = new HierarchicalNSW('cosine', D)
h.initIndex(N, 16, 64, 100)
let built = 0
for (const n of sizes) {
  const flat = new Float32Array((n - built) * D)
  for (let i = built; i < n; i++) flat.set(data[i]!, (i - built) * D)
  let t0 = performance.now()
  ix.add(BigUint64Array.from({ length: n - built }, (_, i) => BigInt(built + i)), flat, 0)
  const uMs = performance.now() - t0
  t0 = performance.now()
  for (let i = built; i < n; i++) h.addPoint(Array.from(data[i]!), i)
  const hMs = performance.now() - t0
  built = n
  const want = queries.map((q) => truth(q, n))
  console.log(`n=${n}: added in usearch ${(uMs / 1000).toFixed(1)} s, hnswlib ${(hMs / 1000).toFixed(1)} s (load ${loadavg()[0]!.toFixed(1)})`)
  for (const ef of efs) {
    // usearch explores max(count, expansion_search): Tessera asks an ef as the count and keeps the nearest k.
    let hitsU = 0, hitsH = 0
    const lu: number[] = [], lh: number[] = []
    h.setEf(ef)
    queries.forEach((q, i) => {
      let s = performance.now()
      const m = ix.search(q, Math.max(ef, K), 1)
      lu.push(performance.now() - s)
      const got = Array.from(m.keys.slice(0, K), Number)
      hitsU += got.filter((x) => want[i]!.includes(x)).length
      const arr = Array.from(q)
      s = performance.now()
      const r = h.searchKnn(arr, K)
      lh.push(performance.now() - s)
      hitsH += r.neighbors.filter((x) => want[i]!.includes(x)).length
    })
    console.log(`  ef ${String(ef).padStart(4)}: usearch recall ${(hitsU / (Q * K)).toFixed(3)} p50 ${p50(lu).toFixed(3)} ms | hnswlib recall ${(hitsH / (Q * K)).toFixed(3)} p50 ${p50(lh).toFixed(3)} ms`)
  }
}
