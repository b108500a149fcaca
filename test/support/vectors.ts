// Seeded test vectors for the vector-search tests: unit vectors clustered around 40 random centers (what embeddings
// look like), with the rand that made them, for tests that need more random numbers from the same sequence.

export interface TestVectors {
  readonly rand: () => number
  readonly unit: (v: number[]) => number[]
  /** A unit vector near one of the centers (float32-exact values). */
  readonly clustered: () => number[]
  readonly dot: (a: readonly number[], b: readonly number[]) => number
}

export function testVectors(seed: number, dims: number): TestVectors {
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand())
  const unit = (v: number[]) => {
    const n = Math.hypot(...v)
    return v.map((x) => Math.fround(x / n))
  }
  const centers = Array.from({ length: 40 }, () => Array.from({ length: dims }, gauss))
  const clustered = () => unit(centers[Math.floor(rand() * centers.length)]!.map((c) => c + 0.35 * gauss()))
  const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0)
  return { rand, unit, clustered, dot }
}
