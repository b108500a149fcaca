// usearch's quantizations alone, no Tessera: build time, search time and recall@10 of f32, f16 and i8 graphs on the
// same vectors, beside hnswlib-node (f32), and how far f16's distances lie from exact ones — the measurement behind
// f16 as the cosine index's default (src/index/ann/native.ts, README "Vector index").
// Run: npx bun bench/lib/ann-quantization.ts [N=100000] [clustered|random]
import * as u from 'usearch'
import { annVectors } from './ann-vectors.ts'
import { hnswlibOrExit } from './hnswlib.ts'

const N = Number(process.argv[2] ?? 100_000), KIND = process.argv[3] ?? 'clustered'
const D = 384, K = 10, EF = 90, ROUNDS = 5
const { data, queries } = annVectors(N, D, 300, KIND)
const flat = new Float32Array(N * D)
data.forEach((v, i) => flat.set(v, i * D))
const keys = BigUint64Array.from({ length: N }, (_, i) => BigInt(i))
const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0
  for (let i = 0; i < D; i++) s += a[i]! * b[i]!
  return s
}
// Exact top-k by inner product (unit vectors: cosine).
const truth = queries.map((q) => {
  const sims = new Float32Array(N)
  for (let i = 0; i < N; i++) sims[i] = dot(q, data[i]!)
  return Array.from(sims.keys()).sort((a, b) => sims[b]! - sims[a]!).slice(0, K)
})

type Side = { name: string; buildS: number; search: (q: Float32Array) => number[] }
const sides: Side[] = []
let f16: u.Index | undefined
// Tessera's forms: a cosine index holds unit vectors searched by inner product; i8 keeps usearch's cosine (engine.ts).
for (const [metric, quantization] of [['ip', 'f32'], ['ip', 'f16'], ['cos', 'i8']] as const) {
  const index = new u.Index({ dimensions: D, metric: metric as never, quantization: quantization as never, connectivity: 16, expansion_add: 64, expansion_search: EF, multi: false })
  const t0 = performance.now()
  index.add(keys, flat, 0)
  if (quantization === 'f16') f16 = index
  sides.push({ name: `usearch ${quantization}`, buildS: (performance.now() - t0) / 1000, search: (q) => Array.from(index.search(q, EF, 1).keys.slice(0, K), Number) })
}
const HierarchicalNSW = await hnswlibOrExit('this comparison needs it')
const h = new HierarchicalNSW('cosine', D)
h.initIndex(N, 16, 64, 100)
const t0 = performance.now()
for (let i = 0; i < N; i++) h.addPoint(Array.from(data[i]!), i)
h.setEf(EF)
sides.push({ name: 'hnswlib f32', buildS: (performance.now() - t0) / 1000, search: (q) => h.searchKnn(Array.from(q), K).neighbors })

// Each side over every query in turn, the sides' order rotated each round; the first round gives recall, the others time.
const times = sides.map(() => [] as number[])
const hits = sides.map(() => 0)
for (let round = 0; round <= ROUNDS; round++) {
  for (let k = 0; k < sides.length; k++) {
    const s = (round + k) % sides.length
    queries.forEach((q, qi) => {
      const t0 = performance.now()
      const got = sides[s]!.search(q)
      if (round > 0) times[s]!.push(performance.now() - t0)
      else hits[s]! += got.filter((id) => truth[qi]!.includes(id)).length
    })
  }
}
const p50 = (x: number[]): number => [...x].sort((a, b) => a - b)[x.length >> 1]!
console.log(`${N} x ${D} ${KIND}, M 16, efConstruction 64, ef ${EF}, ${queries.length} queries, p50 over ${ROUNDS} rounds`)
sides.forEach((s, i) => console.log(`  ${s.name.padEnd(12)} build ${s.buildS.toFixed(1).padStart(6)} s   search p50 ${p50(times[i]!).toFixed(3)} ms   recall@10 ${(hits[i]! / (queries.length * K)).toFixed(3)}`))

// f16's distances against exact ones (1 − dot), over the 20 nearest of each query, and adjacent pairs whose f16
// order is not their exact order.
let maxError = 0, sumError = 0, count = 0, swapped = 0, pairs = 0
for (const q of queries) {
  const found = f16!.search(q, 20, 1)
  const exact = Array.from(found.keys, (key, i) => {
    const d = 1 - dot(q, data[Number(key)]!)
    const error = Math.abs(found.distances[i]! - d)
    maxError = Math.max(maxError, error)
    sumError += error
    count++
    return d
  })
  for (let i = 1; i < exact.length; i++, pairs++) if (exact[i - 1]! > exact[i]! + 1e-7) swapped++
}
console.log(`  f16 distance error: mean ${(sumError / count).toExponential(2)}, max ${maxError.toExponential(2)}; adjacent pairs out of exact order ${swapped} / ${pairs}`)
