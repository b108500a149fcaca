// The vector-search benchmarks' generated data (bench/lib/ann-peer.ts, bench/lib/ann-ef.ts): n unit vectors of d
// dimensions, uniformly random or around 100 centers, then q queries of the same kind, from a fixed seed, so every peer
// and every run sees the same vectors.

export function annVectors(n: number, d: number, q: number, kind: string): { data: Float32Array[]; queries: Float32Array[] } {
  let seed = 12345
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296)
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand())
  const normalize = (v: Float32Array): Float32Array => {
    let norm = 0
    for (const x of v) norm += x * x
    norm = Math.sqrt(norm)
    for (let i = 0; i < v.length; i++) v[i]! /= norm
    return v
  }
  // Centers first, then the rows, then the queries: the order fixes which numbers each gets.
  const centers = Array.from({ length: 100 }, () => Float32Array.from({ length: d }, gauss))
  const gen = (): Float32Array => kind === 'clustered'
    ? normalize(Float32Array.from(centers[Math.floor(rand() * centers.length)]!, (c) => c + 0.5 * gauss()))
    : normalize(Float32Array.from({ length: d }, gauss))
  const data = Array.from({ length: n }, gen)
  return { data, queries: Array.from({ length: q }, gen) }
}
