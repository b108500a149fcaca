// How many candidates a search explores (HNSW's efSearch) when neither the query nor the index names a number.
// A fixed ef loses recall as the graph grows: on 384-d clustered vectors (bench/lib/ann-ef.ts, M 16, efConstruction
// 64) ef 40 gave recall@10 0.993 at 25,000 rows, 0.972 at 50,000 and 0.915 at 100,000 (hnswlib-node: 0.992 / 0.948 /
// 0.879). ef 80 at 100,000 gave 0.953 to 0.978 depending on the build (the graph differs from build to build: its
// adds run on several threads), ef 90 lifted the weakest of those graphs to 0.964. So the default grows with the log
// of the index's size — 40 up to 25,000 rows, then 25 more per doubling (65 at 50k, 90 at 100k, 140 at 400k, 174 at
// 1M) — and is at least twice k, so a large k still explores past its own k. The search stays cheap beside the
// statement that fetches the rows (usearch at 100k: ~0.45 ms at ef 80; the statement: ~0.5-1 ms).

/** The size up to which BASE candidates suffice, and that base. */
export const EF_RULE = { base: 40, baseRows: 25_000, perDoubling: 25 } as const

/** The default efSearch of a top-k over an index of `size` vectors. */
export function defaultEfSearch(k: number, size: number): number {
  const doublings = size > EF_RULE.baseRows ? Math.log2(size / EF_RULE.baseRows) : 0
  return Math.max(2 * k, Math.ceil(EF_RULE.base + EF_RULE.perDoubling * doublings))
}
