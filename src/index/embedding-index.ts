import type { ColumnMd, IfExists, IfNotExists, IndexMd, IndexMetric, TableMd, UpdateStatus, Table, TableState, VersionKind } from '../catalog/index.ts'
import { alreadyExists, invalid, notFound, TesseraError } from '../errors.ts'
import type { Embedder } from '../inference/index.ts'
import { checkEmbedder, withDims } from '../inference/index.ts'
import { colNode, Expr, fnNode, valueColumn } from '../query/index.ts'
import type { Queryable } from '../store/index.ts'
import { parseType } from '../types/index.ts'
import { createRowIdIndex, isNative } from './ann/index.ts'
import type { NativeIndexStatus } from './ann/index.ts'
import { tsvectorSql, vectorCast } from './functions.ts'
import { indexStatements } from './statements.ts'
import { MAX_VECTOR_DIMS } from './search-limits.ts'

// An embedding index is a hidden computed column (the vectors, kept in sync by the computed-column machinery on
// insert, update, delete and revert) plus an ANN index over the current rows: on the embedded store a native one
// beside PGlite (src/index/ann/, kept up after commits), on a PostgreSQL server pgvector's HNSW expression index.
// A column that already holds vectors (array<float32>[n]) is indexed without an embedder and without a copy: the
// index entry names the column itself as its vectors (valueColumnId = columnId; see ownsVectorsColumn), and adding
// or dropping it is a schema change of the catalog entry only. Copying the vectors into a hidden column was a third
// of the build (BENCHMARKS.md). The physical index lives and dies with the physical column, so reverting the version
// that added it removes both.
// A text index also gets a full-text GIN index over the source column's current rows (to_tsvector with a fixed
// configuration), so hybrid search's text side is an index scan instead of parsing every row (measured at 100k
// rows: 1.5-2.5 s → 60 ms). Like the HNSW index it is never dropped with the index: earlier versions may use it.

export interface AddEmbeddingIndexOptions {
  /** How values become vectors; leave it out for a column that holds vectors already (array<float32>[n]). */
  readonly embed?: Embedder
  readonly metric?: IndexMetric
  /** HNSW graph degree (default 16; pgvector's m on a PostgreSQL server). */
  readonly m?: number
  /** Candidates kept while building (default 64; pgvector's ef_construction). */
  readonly efConstruction?: number
  /** Candidates explored per search unless a query says otherwise (default 40; pgvector's hnsw.ef_search). */
  readonly efSearch?: number
  /**
   * How the embedded store's native index keeps vectors: 'f32', 'f16' or 'i8' (cosine only); default f16 for cosine,
   * f32 for ip and l2. Scores returned are exact either way; f16 orders rows by distances within 1e-4 of exact, i8's
   * candidates are re-ranked exactly.
   */
  readonly quantization?: 'f32' | 'f16' | 'i8'

  readonly name?: string
  readonly ifExists?: IfExists
  /** 'abort' (default): an input the embedder cannot read fails the write; 'ignore' stores a per-cell error. */
  readonly onError?: 'abort' | 'ignore'
  /**
   * Text indexes on string columns: the text search configuration ('english' by default, 'simple', 'german', ...)
   * of the full-text index hybrid search uses, or false for none.
   */
  readonly fullText?: string | false
}

export interface IndexInfo {
  readonly name: string
  readonly column: string
  readonly metric: IndexMetric
  readonly dims: number
  readonly embed: IndexMd['embed']
  /** The full-text configuration hybrid search uses on this column (text indexes on string columns). */
  readonly fullText?: string
  /** HNSW settings given at creation (the rest are defaults). */
  readonly ann?: IndexMd['ann']
  /** The embedded store's native index: what searches get from it now (src/index/ann/manager.ts). */
  readonly native?: NativeIndexStatus
}

const OPCLASS: Record<IndexMetric, string> = { cosine: 'vector_cosine_ops', ip: 'vector_ip_ops', l2: 'vector_l2_ops' }
/** The hidden computed column holding an index's vectors. */
export const hiddenIndexColumn = (index: string): string => `_idx_${index}`
/**
 * The pgvector HNSW index's name. An index over a column of vectors has no column of its own, so several such
 * indexes of one column (other metrics) are told apart by their metric.
 */
export const physicalIndexName = (tableId: number, idx: Pick<IndexMd, 'valueColumnId' | 'metric'> & { readonly columnId?: number }): string =>
  `t${tableId}_e${idx.valueColumnId}${idx.columnId === idx.valueColumnId ? `_${idx.metric}` : ''}`

/** Whether an index keeps its vectors in a hidden column of its own (false: it indexes a column of vectors as is). */
export const ownsVectorsColumn = (idx: Pick<IndexMd, 'columnId' | 'valueColumnId'>): boolean => idx.columnId !== idx.valueColumnId

export const fullTextIndexName = (tableId: number, columnId: number, language: string): string => `t${tableId}_c${columnId}_fts_${language}`

/** The GIN index over a text column's current rows for full-text matching in one configuration. */
export async function createFullTextIndex(tx: Queryable, tableId: number, columnId: number, language: string): Promise<void> {
  const known = await tx.query('select 1 from pg_ts_config where cfgname = $1', [language])
  if (known.rows.length === 0) {
    const names = (await tx.query<{ cfgname: string }>('select cfgname from pg_ts_config order by cfgname')).rows.map((r) => r.cfgname)
    throw invalid('INVALID_ARGUMENT', `fullText: no text search configuration '${language}' on this database; it has ${names.join(', ')}`)
  }
  await indexStatements().createCurrentRowsIndex(tx, tableId, fullTextIndexName(tableId, columnId, language), 'gin', tsvectorSql(valueColumn(columnId), language))
}

/**
 * The physical ANN index; `if not exists`, so re-creating after a revert of a drop is harmless. On the embedded
 * store the native index (built after the commit) takes HNSW's place: only the _rowid b-tree its candidates are
 * fetched through is made here.
 */
export async function createHnsw(tx: Queryable, tableId: number, idx: Pick<IndexMd, 'valueColumnId' | 'metric' | 'dims'> & { ann?: IndexMd['ann']; columnId?: number }): Promise<void> {
  if (await isNative(tx)) return createRowIdIndex(tx, tableId)
  const m = idx.ann?.m, efc = idx.ann?.efConstruction
  const withSql = m !== undefined || efc !== undefined ? ` with (${[m !== undefined ? `m = ${Math.trunc(m)}` : '', efc !== undefined ? `ef_construction = ${Math.trunc(efc)}` : ''].filter(Boolean).join(', ')})` : ''
  await indexStatements().createCurrentRowsIndex(tx, tableId, physicalIndexName(tableId, idx), 'hnsw', `${vectorCast(valueColumn(idx.valueColumnId), idx.dims)} ${OPCLASS[idx.metric]}`, withSql)
}

export function listIndexes(md: TableMd, nativeStatus?: (idx: IndexMd) => NativeIndexStatus): IndexInfo[] {
  return (md.indexes ?? []).map((i) => ({
    name: i.name, column: md.columns.find((c) => c.id === i.columnId)?.name ?? `#${i.columnId}`, metric: i.metric, dims: i.dims, embed: i.embed,
    ...(i.fullText ? { fullText: i.fullText.language } : {}), ...(i.ann ? { ann: i.ann } : {}),
    ...(nativeStatus ? { native: nativeStatus(i) } : {}),
  }))
}

type AddHidden = (name: string, expr: Expr, options: {
  onError: 'abort' | 'ignore'
  hidden: true
  afterAdd: (tx: Queryable, md: TableMd, column: ColumnMd, state: TableState) => Promise<TableMd>
}) => Promise<UpdateStatus>

/** A schema change of the table (one new version) whose new schema `apply` returns, on the locked state. */
export type AlterSchema = (kind: VersionKind, apply: (tx: Queryable, state: TableState, version: number) => Promise<TableMd>) => Promise<UpdateStatus>

/** An index request checked against the table's schema, before any model runs. */
export interface CheckedIndex {
  readonly name: string
  readonly source: ColumnMd
  readonly metric: IndexMetric
  readonly fullText: string | undefined
  /** An index of that name exists already. */
  readonly exists: boolean
  readonly ann: NonNullable<IndexMd['ann']> | undefined
  /** The column's vector length when it holds vectors (no embedder). */
  readonly vectorDims: number | undefined
}

/** The checks addEmbeddingIndex and background index jobs share: column, metric, embedder fit, full text, name. */
export function checkEmbeddingIndex(md: TableMd, path: string, column: string, options: AddEmbeddingIndexOptions): CheckedIndex {
  const source = md.columns.find((c) => c.name === column && !c.hidden)
  if (!source) throw notFound('COLUMN_NOT_FOUND', `'${path}' has no column '${column}' to index`, { column, table: path })
  const metric = options.metric ?? 'cosine'
  if (!(metric in OPCLASS)) throw invalid('INVALID_ARGUMENT', `unknown metric '${metric}'; use cosine, ip or l2`)
  const type = parseType(source.type)
  const kind = type.kind
  const ann = checkAnnOptions(options, metric)
  let vectorDims: number | undefined
  if (!options.embed) {
    // Bring your own vectors: a float32 array column of one fixed length.
    vectorDims = kind === 'array' && (type.dtype ?? 'float32') === 'float32' && type.shape?.length === 1 && typeof type.shape[0] === 'number' ? type.shape[0] : undefined
    if (vectorDims === undefined || vectorDims < 1) {
      throw invalid('INVALID_ARGUMENT', `addEmbeddingIndex('${column}') needs embed: an embedder such as embedders.lexical(), unless the column holds vectors (type array<float32>[n]; it is ${source.type})`, { column })
    }
    checkIndexDims(column, vectorDims)
    if (options.fullText) throw invalid('INVALID_ARGUMENT', `fullText needs a text column and embedder; '${column}' holds vectors`, { column })
  } else {
    if (typeof options.embed.fn !== 'string') throw invalid('INVALID_ARGUMENT', `addEmbeddingIndex('${column}'): embed must be an embedder such as embedders.lexical()`)
    // Its options are stored with the index and rebuild every vector: an unknown name or a value the embedder cannot
    // take is refused here, before the ifExists answer and before any model runs (library, HTTP and jobs alike).
    checkEmbedder(options.embed)
    const fits = options.embed.modality === 'text' ? kind === 'string' : ['image', 'string', 'binary'].includes(kind)
    if (!fits) throw invalid('INVALID_ARGUMENT', `a ${options.embed.modality} embedder cannot index column '${column}' of type ${source.type}${kind === 'array' ? ' (a column of vectors is indexed without embed)' : ''}`, { column })
  }
  const fullText = kind === 'string' && options.embed?.modality === 'text' && options.fullText !== false ? options.fullText ?? 'english' : undefined
  if (fullText !== undefined && (typeof fullText !== 'string' || !/^[a-z_]+$/.test(fullText))) {
    throw invalid('INVALID_ARGUMENT', `fullText must be a text search configuration name like 'english' or 'simple', or false (got ${JSON.stringify(fullText)})`)
  }
  const existing = md.indexes ?? []
  const name = options.name ?? firstFree(existing)
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid('INVALID_NAME', `index name '${name}': use letters, digits and _`, { index: name })
  return { name, source, metric, fullText, exists: existing.some((i) => i.name === name), ann, vectorDims }
}

/** HNSW knobs, bounded as pgvector bounds them (so both stores accept the same ones). */
function checkAnnOptions(options: AddEmbeddingIndexOptions, metric: IndexMetric): NonNullable<IndexMd['ann']> | undefined {
  const int = (name: 'm' | 'efConstruction' | 'efSearch', min: number, max: number): number | undefined => {
    const x = options[name]
    if (x === undefined) return undefined
    if (!Number.isInteger(x) || x < min || x > max) throw invalid('INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(x)}`)
    return x
  }
  const m = int('m', 2, 100), efConstruction = int('efConstruction', 4, 1000), efSearch = int('efSearch', 1, 1000)
  if (efConstruction !== undefined && efConstruction < 2 * (m ?? 16)) throw invalid('INVALID_ARGUMENT', `efConstruction (${efConstruction}) must be at least twice m (${m ?? 16})`)
  const q = options.quantization
  if (q !== undefined && !['f32', 'f16', 'i8'].includes(q)) throw invalid('INVALID_ARGUMENT', `quantization must be 'f32', 'f16' or 'i8', got ${JSON.stringify(q)}`)
  if (q === 'i8' && metric !== 'cosine') throw invalid('INVALID_ARGUMENT', `quantization 'i8' works with metric 'cosine' only (it scales unit vectors to bytes); use 'f16' for ${metric}`)
  const ann = { ...(m !== undefined ? { m } : {}), ...(efConstruction !== undefined ? { efConstruction } : {}), ...(efSearch !== undefined ? { efSearch } : {}), ...(q !== undefined ? { quantization: q } : {}) }
  return Object.keys(ann).length > 0 ? ann : undefined
}

/** The "embedder" of an index over a column of vectors: the column itself. */
const ownVectors = (dims: number): Embedder & { opts: { dims: number } } => ({ fn: 'vectors', opts: { dims }, modality: 'vector' as never })

/** The catalog entry of an index whose vectors are in `valueColumn`. */
export function indexMdOf(checked: CheckedIndex, embed: Embedder & { opts: { dims: number } }, valueCol: Pick<ColumnMd, 'id' | 'addedIn'>): IndexMd {
  return {
    name: checked.name, kind: 'embedding', columnId: checked.source.id, valueColumnId: valueCol.id, metric: checked.metric, dims: embed.opts.dims,
    embed: { fn: embed.fn, opts: embed.opts, modality: embed.modality }, addedIn: valueCol.addedIn,
    ...(checked.fullText ? { fullText: { language: checked.fullText } } : {}), ...(checked.ann ? { ann: checked.ann } : {}),
  }
}

/** The vectors' expression: the embedder applied to the indexed column (or the column, when it holds vectors). */
export const embedExpr = (embed: Embedder, column: string): Expr => (embed.fn === 'vectors' && (embed.modality as string) === 'vector' ? new Expr(colNode(column)) : new Expr(fnNode(embed.fn, [colNode(column)], embed.opts)))

/** The embedder with its dims: the given one, or the column's own vectors. */
export async function indexEmbedder(checked: CheckedIndex, embed: Embedder | undefined): Promise<Embedder & { opts: { dims: number } }> {
  if (!embed) return ownVectors(checked.vectorDims!)
  const withItsDims = await withDims(embed)
  checkIndexDims(checked.source.name, withItsDims.opts.dims)
  return withItsDims
}

/** An index's vectors are cast to pgvector's type, which holds MAX_VECTOR_DIMS at most (the HTTP query's bound too). */
function checkIndexDims(column: string, dims: number): void {
  if (dims > MAX_VECTOR_DIMS) throw invalid('INVALID_ARGUMENT', `addEmbeddingIndex('${column}'): vectors of ${dims} dimensions; an index takes at most ${MAX_VECTOR_DIMS}`, { column, limit: MAX_VECTOR_DIMS })
}

/** The physical indexes of an index entry: HNSW over its vectors, and the full-text index of a text column. */
export async function createPhysicalIndexes(tx: Queryable, tableId: number, idx: IndexMd): Promise<void> {
  await createHnsw(tx, tableId, idx)
  if (idx.fullText) await createFullTextIndex(tx, tableId, idx.columnId, idx.fullText.language)
}

/**
 * The schema with `idx` in place: an index of the same name is replaced (its vectors column leaves the schema, as in
 * dropEmbeddingIndex) and the new vectors column takes the index's usual hidden name.
 */
export function withIndex(md: TableMd, idx: IndexMd): TableMd {
  const old = md.indexes?.find((i) => i.name === idx.name)
  // An index over a column of vectors has no column of its own: the column stays as it is, with its name.
  const columns = md.columns
    .filter((c) => !(old && ownsVectorsColumn(old) && c.id === old.valueColumnId))
    .map((c) => (ownsVectorsColumn(idx) && c.id === idx.valueColumnId ? { ...c, name: hiddenIndexColumn(idx.name) } : c))
  return { ...md, columns, indexes: [...(md.indexes ?? []).filter((i) => i !== old), idx] }
}

export async function addEmbeddingIndex(table: Table, column: string, options: AddEmbeddingIndexOptions, addHidden: AddHidden, alterSchema: AlterSchema): Promise<UpdateStatus> {
  const checked = checkEmbeddingIndex(table.md, table.path, column, options)
  if (checked.exists) {
    const mode = options.ifExists ?? 'error'
    if (mode === 'ignore') return statusOf(table)
    if (mode === 'error') throw alreadyExists('INDEX_ALREADY_EXISTS', `'${table.path}' already has an index '${checked.name}'; pass ifExists: 'ignore' or 'replace' (or build the new one in the background: db.jobs.startIndex)`, { index: checked.name })
  }
  const embed = await indexEmbedder(checked, options.embed)
  if (!options.embed) {
    // A column of vectors: the index reads it as is (no copy), so adding it is a change of the catalog entry.
    return alterSchema('add_column', async (tx, state, version) => {
      // Checked again on the locked state: the column may have changed and the name been taken meanwhile.
      const again = checkEmbeddingIndex(state.md, state.path, column, options)
      if (again.exists && (options.ifExists ?? 'error') !== 'replace') {
        if (options.ifExists === 'ignore') return state.md
        throw alreadyExists('INDEX_ALREADY_EXISTS', `'${state.path}' already has an index '${again.name}'`, { index: again.name })
      }
      const idx = indexMdOf(again, await indexEmbedder(again, undefined), { id: again.source.id, addedIn: version })
      await createPhysicalIndexes(tx, state.id, idx)
      return withIndex(state.md, idx)
    })
  }
  // Replacing: the new vectors column starts under a temporary name and the swap happens in the same version, so a
  // search never finds the index missing.
  const hiddenName = checked.exists ? `${hiddenIndexColumn(checked.name)}_new${table.md.nextColumnId}` : hiddenIndexColumn(checked.name)
  const added = addHidden(hiddenName, embedExpr(embed, column), {
    onError: options.onError ?? 'abort',
    hidden: true,
    afterAdd: async (tx, newMd, valueCol, state) => {
      const idx = indexMdOf(checked, embed, valueCol)
      await createPhysicalIndexes(tx, state.id, idx)
      return withIndex(newMd, idx)
    },
  })
  // A concurrent add of the same index took the hidden column's name between the check above and this add: answer
  // as if it had come first (the hidden column's name is not the user's to see).
  return added.catch((e) => {
    if (!(e instanceof TesseraError && e.code === 'COLUMN_ALREADY_EXISTS')) throw e
    if (options.ifExists === 'ignore') return statusOf(table)
    throw alreadyExists('INDEX_ALREADY_EXISTS', `'${table.path}' already has an index '${checked.name}'; pass ifExists: 'ignore' or 'replace' (or build the new one in the background: db.jobs.startIndex)`, { index: checked.name })
  })
}

export async function dropEmbeddingIndex(table: Table, name: string, options: { ifNotExists?: IfNotExists }, alterSchema: AlterSchema): Promise<UpdateStatus> {
  const idx = table.md.indexes?.find((i) => i.name === name)
  if (!idx) {
    if (options.ifNotExists === 'ignore') return statusOf(table)
    throw notFound('INDEX_NOT_FOUND', `'${table.path}' has no index '${name}'; indexes are: ${listIndexes(table.md).map((i) => i.name).join(', ') || '(none)'}`, { index: name })
  }
  // Dropping the hidden column drops the index entry with it (Table.dropColumn); the physical column and HNSW
  // index stay for earlier versions, as with any dropped column, and new rows store null there.
  if (ownsVectorsColumn(idx)) {
    // A concurrent drop of the same index may take the column first: then this index is not found, as it would be
    // after that drop (never the hidden column's name).
    return table.dropColumn(table.md.columns.find((c) => c.id === idx.valueColumnId)!.name, { ifNotExists: options.ifNotExists ?? 'error' }).catch((e) => {
      if (e instanceof TesseraError && e.code === 'COLUMN_NOT_FOUND') throw notFound('INDEX_NOT_FOUND', `'${table.path}' has no index '${name}'`, { index: name })
      throw e
    })
  }
  // An index over a column of vectors: only the catalog entry goes (the column is the user's).
  return alterSchema('drop_column', async (_tx, state) => {
    const indexes = (state.md.indexes ?? []).filter((i) => i.name !== name)
    if (indexes.length === (state.md.indexes ?? []).length) throw notFound('INDEX_NOT_FOUND', `'${state.path}' has no index '${name}'`, { index: name })
    return { ...state.md, indexes }
  })
}

function firstFree(existing: readonly IndexMd[]): string {
  for (let i = 0; ; i++) if (!existing.some((x) => x.name === `idx${i}`)) return `idx${i}`
}

function statusOf(table: Table): UpdateStatus {
  return { version: table.version, numRows: 0, numInserted: 0, numUpdated: 0, numDeleted: 0, numComputedValues: 0, numExcs: 0, colsWithExcs: [], updatedCols: [] }
}
