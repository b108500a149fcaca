// The physical data-table layer (Pixeltable's store.py): every statement over the versioned data tables
// (tessera_data.t<id>) lives in this folder: their layout (DDL), row versions written and ended, versions undone and
// repaired, view deltas, integrity checks, compaction. The catalog decides what to write; this layer says how.
// Identifiers are quoted by src/query/sql.ts (quoteIdent, dataTable, valueColumn), values go as $n parameters.
// A row version is visible at version v when _v_min <= v < _v_max; current ones have _v_max = MAX_VERSION.

export * from './layout.ts'
export * from './versions.ts'
export * from './compaction.ts'
export * from './rows.ts'
export * from './keys.ts'
export * from './views.ts'
export * from './check.ts'
export * from './jobs.ts'
export * from './indexes.ts'
export * from './media-refs.ts'
export * from './statistics.ts'
