// Embedding indexes (hidden computed columns of vectors; a native ANN index on the embedded store, pgvector HNSW on a
// PostgreSQL server), similarity rewrite, full-text and hybrid search.
import './functions.ts'

export { addEmbeddingIndex, dropEmbeddingIndex, listIndexes, createHnsw, physicalIndexName } from './embedding-index.ts'
export type { AddEmbeddingIndexOptions, IndexInfo } from './embedding-index.ts'
export { rewriteSimilarity, VECTOR_SESSION_SETTINGS } from './similarity.ts'
export { hybridSearch } from './hybrid.ts'
export type { HybridSearchOptions } from './hybrid.ts'
export { attachVectorIndexes, checkVectorIndexes, detachVectorIndexes, isNative, Pace, vectorIndexesAfterCommit, vectorIndexesOf, withPrebuiltVectorIndex } from './ann/index.ts'
// What other folders import from this one (added by the barrels codemod).
export { checkEmbeddingIndex, createPhysicalIndexes, embedExpr, fullTextIndexName, indexEmbedder, indexMdOf, withIndex } from './embedding-index.ts'
export { searchOutputs } from './hybrid.ts'
export { freeOutputNames } from './output-names.ts'
export { MAX_VECTOR_DIMS, SEARCH_MAX_CANDIDATES, SEARCH_MAX_K } from './search-limits.ts'
export { provideIndexStatements } from './statements.ts'
export type { ColumnValuesPage, IndexStatements, VectorPage } from './statements.ts'
