// The native (usearch) vector index of the embedded store: upkeep after commits, persistence, query planning, check.
export { ANN_DEFAULTS } from './native.ts'
export type { AnnSettings, Quantization } from './native.ts'
export { annSettings, attachVectorIndexes, detachVectorIndexes, vectorIndexesAfterCommit, vectorIndexesOf } from './manager.ts'
export type { AnnEntry, VectorIndexes } from './manager.ts'
export { annLimits, planAnn } from './plan.ts'
export type { AnnQueryOptions } from './plan.ts'
export { checkVectorIndexes } from './check.ts'
export { createRowIdIndex, isNative } from './store.ts'
