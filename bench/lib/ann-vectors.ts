// The vector-search benchmarks' generated data (bench/lib/ann-peer.ts, bench/lib/ann-ef.ts): n unit vectors of d
// dimensions, uniformly random or around 100 centers, then q queries of the same kind, from a fixed seed, so every peer
// and every run sees the same vectors; then `warm` more queries, for warming up before a measurement. They come after
// the measured ones in the stream, so asking for them changes neither the rows nor the measured queries, and no peer
// finds the measured answers' pages cached by its warm-up. Warming up matters for Tessera: its store is WebAssembly
// Postgres, which the runtime compiles to its faster tiers only after it has run a while (a 20-row fetch: 0.65 ms of
// store time a statement over a fresh process's first 600 statements, 0.15-0.19 ms over the next 1,800; BENCHMARKS.md,
// issue 16, tenth session).

export function annVectors(n: number, d: number, q: number, kind: string, warm = 0): { data: Float32Array[]; queries: Float32Array[]; warmQueries: Float32Array[] } {
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
  const queries = Array.from({ length: q }, gen)
  return { data, queries, warmQueries: Array.from({ length: warm }, gen) }
}
