import { DATA_SCHEMA, dataTable, MAX_VERSION, quoteIdent, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import type { ColumnValuesPage, IndexStatements, VectorPage } from '../../index/index.ts'
import { copyFloat4Bytes, forEachCopyRow, swapFloat4s } from './copy-binary-read.ts'
import { versionStamp } from './versions.ts'

// The statements over the data tables that embedding indexes (src/index/) need: the physical indexes' DDL (pgvector
// HNSW, full-text GIN, the current rows' _rowid b-tree), the native index's reads (its vectors in _rowid pages, the
// rows ended in a range of versions, a count) and the subquery of the rows written after a version. src/index cannot
// import the catalog (the catalog imports it), so the catalog hands these in when it loads (provideIndexStatements).
// Every index here is partial on current rows: older versions are searched exactly.

/** An index over the current rows: `using` the access method, `expression` the indexed expression with its opclass. */
export async function createCurrentRowsIndex(tx: Queryable, tableId: number, name: string, using: 'hnsw' | 'gin', expression: string, withSql = ''): Promise<void> {
  await tx.exec(`create index if not exists ${quoteIdent(name)} on ${dataTable(tableId)} using ${using} (${expression})${withSql} where _v_max = ${MAX_VERSION}`)
}

/** The b-tree the native path's candidate predicate (_rowid = any(...)) probes. */
export async function createRowIdIndex(tx: Queryable, tableId: number): Promise<void> {
  await tx.exec(`create index if not exists ${quoteIdent(`t${tableId}_rowid_cur`)} on ${dataTable(tableId)} (_rowid) where _v_max = ${MAX_VERSION}`)
}

/** The physical name of a column's scalar index (addScalarIndex). */
export const scalarIndexName = (tableId: number, columnId: number): string => `t${tableId}_c${columnId}_cur`

/**
 * The index over a column's current values that filters use (Table.addScalarIndex): with it, a selective filter's
 * rows are found without reading the heap, whose rows carry their vectors inline (1.5 kB at 384 dimensions, under
 * Postgres's 2 kB TOAST threshold, so a scan reads them all: listing a 1% filter of 100k rows took 127 ms, through
 * this index ~2 ms). A b-tree serves equality, ranges and in-lists; text gets a hash index (equality and in-lists),
 * since a b-tree entry must fit a third of a page and a long text value would then fail its insert. Partial on
 * current rows, like every index here: a time-travel query ranks older versions without it.
 */
export async function createScalarIndex(tx: Queryable, tableId: number, columnId: number, using: 'btree' | 'hash'): Promise<void> {
  await tx.exec(`create index if not exists ${quoteIdent(scalarIndexName(tableId, columnId))} on ${dataTable(tableId)} using ${using} (${valueColumn(columnId)}) where _v_max = ${MAX_VERSION}`)
}

export async function dropScalarIndex(tx: Queryable, tableId: number, columnId: number): Promise<void> {
  await tx.exec(`drop index if exists ${DATA_SCHEMA}.${quoteIdent(scalarIndexName(tableId, columnId))}`)
}

/**
 * Current rows whose vector was written in versions (after, upTo], after `afterRowId`, in _rowid order; `after` = -1
 * reads every current row written up to upTo (a build).
 *
 * A build's pages are _rowid ranges of `limit` ids (up to the highest current _rowid, found through the current
 * rows' _rowid index), so each page reads only its own rows: with `_rowid > n … order by _rowid limit k` and no
 * statistics (PGlite never analyzes on its own) Postgres read every row after n and sorted them for each page, which
 * made a build quadratic (100k rows: 90 s waiting for pages). `+ 0` keeps the _v_min index out of a build's pages;
 * a catch-up (after >= 0) reads few rows, found through that index.
 *
 * The vectors come out in pgvector's binary form (vector_send: a 4-byte header, then big-endian float4s): printing
 * floats as text is most of the cost of reading them out of PGlite (measured 2-3x slower). Where the store can
 * (copyBinaryTo, PGlite), through COPY's binary output, bytes as they are; elsewhere as base64 text. Reading 100,000
 * vectors of 384 through the store worker: 1.6-2.6 s and 1.9-3.7 s of process CPU, against 3.8-4.4 s and 4.4-5.3 s
 * as base64 rows, whose decoding (~1 s of it) ran on the serving thread (BENCHMARKS.md, issue 16, fourteenth session).
 */
export async function readVectors(db: Queryable, tableId: number, valueColumnId: number, dims: number, range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<VectorPage> {
  const v = valueColumn(valueColumnId)
  const t = dataTable(tableId)
  if (range.after < 0) {
    const top = Number((await db.query<{ m: string | number | null }>(`select max(_rowid) as m from ${t} where _v_max = ${MAX_VERSION}`)).rows[0]?.m ?? 0)
    const page = await vectorRows(db, t, v, dims, (value) => `_v_max = ${MAX_VERSION} and _rowid > ${value(afterRowId)} and _rowid <= ${value(afterRowId + limit)} and _v_min + 0 <= ${value(range.upTo)}`)
    return { ...page, lastRowId: afterRowId + limit >= top ? -1 : afterRowId + limit }
  }
  // A catch-up's pages are _rowid ranges too, from the lowest row of the range not read yet: with `order by _rowid
  // limit k` each page sorted every row of the range (a 20,000-row insert: ~110 ms a page, whatever its size).
  const bounds = (await db.query<{ lo: string | number | null; hi: string | number | null }>(
    `select min(_rowid) as lo, max(_rowid) as hi from ${t} where _v_min > $1 and _v_min <= $2 and _v_max + 0 = ${MAX_VERSION} and _rowid > $3`,
    [range.after, range.upTo, afterRowId],
  )).rows[0]
  if (bounds?.lo === null || bounds?.lo === undefined) return { keys: new BigUint64Array(0), vectors: new Float32Array(0), lastRowId: -1 }
  const from = Number(bounds.lo) - 1
  const top = Number(bounds.hi)
  const page = await vectorRows(db, t, v, dims, (value) => `_v_max = ${MAX_VERSION} and _rowid > ${value(from)} and _rowid <= ${value(from + limit)} and _v_min + 0 > ${value(range.after)} and _v_min + 0 <= ${value(range.upTo)}`)
  return { ...page, lastRowId: from + limit >= top ? -1 : from + limit }
}

/**
 * The _rowid and vector of the rows `where` selects (its integers placed by `value`: inline for COPY, which takes no
 * parameters, else as parameters), in _rowid order; a row whose vector has another dimension count is left out.
 */
async function vectorRows(db: Queryable, t: string, v: string, dims: number, where: (value: (n: number) => string) => string): Promise<{ keys: BigUint64Array; vectors: Float32Array }> {
  if (db.copyBinaryTo) {
    const payload = await db.copyBinaryTo(`select _rowid, vector_send(${v}::vector) from ${t} where ${where(sqlInteger)} and ${v} is not null order by _rowid`)
    return decodeVectorRows(payload, dims)
  }
  const params: number[] = []
  const r = await db.query<{ r: string | number; v: string }>(
    `select _rowid as r, encode(vector_send(${v}::vector), 'base64') as v from ${t} where ${where((n) => `$${params.push(n)}`)} and ${v} is not null order by _rowid`,
    params,
  )
  const keys = new BigUint64Array(r.rows.length)
  const vectors = new Float32Array(r.rows.length * dims)
  let n = 0
  for (const row of r.rows) {
    const bytes = Buffer.from(row.v, 'base64')
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (bytes.byteLength !== 4 + 4 * dims || view.getInt16(0) !== dims) continue
    keys[n] = BigInt(row.r)
    const at = n * dims
    for (let i = 0; i < dims; i++) vectors[at + i] = view.getFloat32(4 + 4 * i)
    n++
  }
  return { keys: keys.subarray(0, n), vectors: vectors.subarray(0, n * dims) }
}

/** Rows of (_rowid int8, vector_send bytes) in COPY's binary format, as a page's keys and row-major vectors. */
function decodeVectorRows(payload: Uint8Array, dims: number): { keys: BigUint64Array; vectors: Float32Array } {
  // Sized for the most rows the payload can hold (each row at least a vector's bytes), trimmed after.
  const most = Math.floor(payload.byteLength / (4 * dims + 4))
  const keys = new BigUint64Array(most)
  const vectors = new Float32Array(most * dims)
  let n = 0
  forEachCopyRow(payload, 2, (view, f) => {
    const at = f.at[1]!
    if (f.length[0] !== 8 || f.length[1] !== 4 + 4 * dims || view.getInt16(at) !== dims) return
    keys[n] = view.getBigUint64(f.at[0]!)
    copyFloat4Bytes(payload, at + 4, dims, vectors, n * dims)
    n++
  })
  const out = vectors.subarray(0, n * dims)
  swapFloat4s(out)
  return { keys: keys.subarray(0, n), vectors: out }
}

/** An integer written into SQL text (COPY's query takes no parameters): only ever a safe integer of Tessera's own. */
function sqlInteger(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer for SQL: ${n}`)
  return String(n)
}

/**
 * The values of some columns of the current rows written in versions (after, upTo], by _rowid pages as readVectors
 * pages its vectors (`after` = -1: every current row written up to upTo), for the native index's copy of the columns
 * its filters test (src/index/ann/column-copies.ts). Rows without a vector are read too: they are never candidates.
 */
export async function readColumnValues(db: Queryable, tableId: number, columnIds: readonly number[], range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<ColumnValuesPage> {
  const t = dataTable(tableId)
  const outputs = columnIds.map((id, i) => `${valueColumn(id)} as v${i}`).join(', ')
  const versions = range.after < 0 ? '_v_min + 0 <= $1' : '_v_min + 0 > $4 and _v_min + 0 <= $1'
  const bounds = (await db.query<{ lo: string | number | null; hi: string | number | null }>(
    range.after < 0
      ? `select min(_rowid) as lo, max(_rowid) as hi from ${t} where _v_max = ${MAX_VERSION} and _rowid > $1`
      : `select min(_rowid) as lo, max(_rowid) as hi from ${t} where _v_min > $1 and _v_min <= $2 and _v_max + 0 = ${MAX_VERSION} and _rowid > $3`,
    range.after < 0 ? [afterRowId] : [range.after, range.upTo, afterRowId],
  )).rows[0]
  if (bounds?.lo === null || bounds?.lo === undefined) return { keys: [], values: [], lastRowId: -1 }
  const from = Number(bounds.lo) - 1
  const r = await db.query<Record<string, unknown>>(
    `select _rowid as r, ${outputs} from ${t} where _v_max = ${MAX_VERSION} and _rowid > $2 and _rowid <= $3 and ${versions}`,
    range.after < 0 ? [range.upTo, from, from + limit] : [range.upTo, from, from + limit, range.after],
  )
  return {
    keys: r.rows.map((row) => Number(row.r)),
    values: r.rows.map((row) => columnIds.map((_, i) => row[`v${i}`] ?? null)),
    lastRowId: from + limit >= Number(bounds.hi) ? -1 : from + limit,
  }
}

/** Rows that stopped being current in versions (after, upTo] and have no current version now (deleted, not updated). */
export async function rowsEnded(db: Queryable, tableId: number, after: number, upTo: number): Promise<BigUint64Array> {
  const t = dataTable(tableId)
  const r = await db.query<{ r: string | number }>(
    `select distinct d._rowid as r from ${t} d where d._v_max > $1 and d._v_max <= $2 and d._v_max <> ${MAX_VERSION} and not exists (select 1 from ${t} c where c._v_max = ${MAX_VERSION} and c._rowid = d._rowid)`,
    [after, upTo],
  )
  return BigUint64Array.from(r.rows, (x) => BigInt(x.r))
}

/**
 * Current rows written in versions (after, upTo] that have no vector (set to null by an update, or an embedding that
 * failed). An update keeps the row's _rowid, and rowsEnded leaves out rows that are still current, so without these
 * the row's earlier vector stayed in the native index under its key: counted in the listing, though not searchable.
 * Found as readVectors' catch-up finds its rows (the _v_min index; `+ 0` keeps the _v_max condition off it).
 */
export async function rowsWithoutVector(db: Queryable, tableId: number, valueColumnId: number, after: number, upTo: number): Promise<BigUint64Array> {
  const r = await db.query<{ r: string | number }>(
    `select _rowid as r from ${dataTable(tableId)} where _v_min > $1 and _v_min <= $2 and _v_max + 0 = ${MAX_VERSION} and ${valueColumn(valueColumnId)} is null`,
    [after, upTo],
  )
  return BigUint64Array.from(r.rows, (x) => BigInt(x.r))
}

/** Current rows with a vector written up to `version` (what a complete index of that version holds). */
export async function countVectors(db: Queryable, tableId: number, valueColumnId: number, version: number): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from ${dataTable(tableId)} where _v_max = ${MAX_VERSION} and _v_min <= $1 and ${valueColumn(valueColumnId)} is not null`, [version])
  return r.rows[0]!.n
}

/**
 * SQL of the _rowid array of the current rows written after version `after` (the native index's candidates add
 * them). `+ 0`: only the _v_min index is probed (with the plain condition Postgres also walks every current row's
 * _rowid). The upper bound makes it a range: without statistics (PGlite never analyzes on its own) Postgres guesses
 * a third of the rows for `_v_min > n` and scans the whole table (3 ms of a 4 ms search at 20k rows), a range 0.5%.
 */
export function rowIdsWrittenAfter(tableId: number, after: number): string {
  return `array(select _rowid from ${dataTable(tableId)} where _v_min > ${Math.trunc(after)} and _v_min <= ${MAX_VERSION} and _v_max + 0 = ${MAX_VERSION})`
}

/**
 * How many current rows were written after version `after`, counted up to `cap`: a search decides from it whether
 * the rows its index has not caught up with are ranked in its final statement or in slices first. A range on _v_min
 * for the reason rowIdsWrittenAfter gives.
 */
export async function countNewerRows(db: Queryable, tableId: number, after: number, cap: number): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from (select 1 from ${dataTable(tableId)} where _v_min > $1 and _v_min <= ${MAX_VERSION} and _v_max + 0 = ${MAX_VERSION} limit $2) as newer`, [after, cap])
  return r.rows[0]!.n
}

/** How many 8 kB blocks the table's heap holds: what a block-paged exact search walks over (src/index/ann/exact.ts). */
export async function tableBlocks(db: Queryable, tableId: number): Promise<number> {
  const r = await db.query<{ blocks: number }>(`select (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int as blocks`, [dataTable(tableId)])
  return r.rows[0]!.blocks
}

/**
 * A cheap estimate of how many vectors an index `name` over the table holds (a PostgreSQL server's pgvector HNSW):
 * the larger of the catalog's row counts of the index and of the table (pg_class.reltuples, kept by index builds,
 * vacuum and analyze; -1 before any). The table's counts older row versions too, so the estimate errs high: a search
 * then explores more candidates (recall), never fewer. No scan: one catalog lookup.
 */
export async function estimatedRows(db: Queryable, tableId: number, indexName: string): Promise<number> {
  const r = await db.query<{ n: number | null }>(
    `select greatest(0, max(reltuples))::float8 as n from pg_class where oid in (to_regclass($1), to_regclass($2))`,
    [dataTable(tableId), `${DATA_SCHEMA}.${quoteIdent(indexName)}`],
  )
  return Number(r.rows[0]?.n ?? 0)
}

/** The statements above, as the index layer takes them. */
export const indexStatements: IndexStatements = { createCurrentRowsIndex, createRowIdIndex, readVectors, readColumnValues, rowsEnded, rowsWithoutVector, countVectors, rowIdsWrittenAfter, countNewerRows, tableBlocks, estimatedRows, versionStamp }
