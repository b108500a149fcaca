// Embedding indexes (pgvector HNSW over hidden computed columns), similarity rewrite, full-text and hybrid search.
import './functions.ts'

export { addEmbeddingIndex, dropEmbeddingIndex, listIndexes, createHnsw, physicalIndexName } from './embedding-index.ts'
export type { AddEmbeddingIndexOptions, IndexInfo } from './embedding-index.ts'
export { rewriteSimilarity } from './similarity.ts'
export { hybridSearch } from './hybrid.ts'
export type { HybridSearchOptions } from './hybrid.ts'
