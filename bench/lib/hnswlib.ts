// hnswlib-node, a peer of the vector benchmarks (bench/embedding.ts ann, bench/lib/ann-*.ts). It is an optional
// dependency: it compiles C++ when installed, and where no compiler or Node's headers are at hand npm leaves it out
// and the install still succeeds (package.json). The benchmarks then say so and compare with the other peers.

/** The part of hnswlib-node's HierarchicalNSW the benchmarks use. */
export interface HnswIndex {
  initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number): void
  addPoint(point: number[], label: number): void
  setEf(ef: number): void
  searchKnn(query: number[], k: number, filter?: (label: number) => boolean): { neighbors: number[]; distances: number[] }
  writeIndex(path: string): Promise<boolean>
}
export type HnswIndexClass = new (space: 'cosine' | 'ip' | 'l2', dims: number) => HnswIndex

const MISSING = 'hnswlib-node is not installed (an optional dependency: it needs a C++ compiler and Node headers at install)'

/** hnswlib-node's index class; without the package, says so on stderr (with `why`, if given) and exits. */
export async function hnswlibOrExit(why?: string): Promise<HnswIndexClass> {
  // A name in a variable: the type checker does not need the package either.
  const name = 'hnswlib-node'
  try {
    return ((await import(name)) as { HierarchicalNSW: HnswIndexClass }).HierarchicalNSW
  } catch {
    console.error(why ? `${MISSING}: ${why}` : MISSING)
    process.exit(1)
  }
}
