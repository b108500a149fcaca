import { DATA_SCHEMA, dataTable, MAX_VERSION, quoteIdent, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import type { ColumnValuesPage, IndexStatements, VectorPage } from '../../index/index.ts'

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
 * The vectors come out in pgvector's binary form (vector_send: a 4-byte header, then big-endian float4s) as
 * base64: printing floats as text is most of the cost of reading them out of PGlite (measured 2-3x slower), and
 * base64 decodes natively here.
 */
export async function readVectors(db: Queryable, tableId: number, valueColumnId: number, dims: number, range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<VectorPage> {
  const v = valueColumn(valueColumnId)
  const t = dataTable(tableId)
  let r: { rows: { r: string | number; v: string }[] }
  let done: (rows: number) => boolean
  if (range.after < 0) {
    const top = Number((await db.query<{ m: string | number | null }>(`select max(_rowid) as m from ${t} where _v_max = ${MAX_VERSION}`)).rows[0]?.m ?? 0)
    r = await db.query<{ r: string | number; v: string }>(
      `select _rowid as r, encode(vector_send(${v}::vector), 'base64') as v from ${t} where _v_max = ${MAX_VERSION} and _rowid > $2 and _rowid <= $3 and _v_min + 0 <= $1 and ${v} is not null order by _rowid`,
      [range.upTo, afterRowId, afterRowId + limit],
    )
    done = () => afterRowId + limit >= top
  } else {
    // A catch-up's pages are _rowid ranges too, from the lowest row of the range not read yet: with `order by _rowid
    // limit k` each page sorted every row of the range (a 20,000-row insert: ~110 ms a page, whatever its size).
    const bounds = (await db.query<{ lo: string | number | null; hi: string | number | null }>(
      `select min(_rowid) as lo, max(_rowid) as hi from ${t} where _v_min > $1 and _v_min <= $2 and _v_max + 0 = ${MAX_VERSION} and _rowid > $3`,
      [range.after, range.upTo, afterRowId],
    )).rows[0]
    if (bounds?.lo === null || bounds?.lo === undefined) return { keys: new BigUint64Array(0), vectors: new Float32Array(0), lastRowId: -1 }
    const from = Number(bounds.lo) - 1
    const top = Number(bounds.hi)
    r = await db.query<{ r: string | number; v: string }>(
      `select _rowid as r, encode(vector_send(${v}::vector), 'base64') as v from ${t} where _v_max = ${MAX_VERSION} and _rowid > $3 and _rowid <= $4 and _v_min + 0 > $1 and _v_min + 0 <= $2 and ${v} is not null order by _rowid`,
      [range.after, range.upTo, from, from + limit],
    )
    afterRowId = from
    done = () => from + limit >= top
  }
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
  const last = afterRowId + limit
  return { keys: keys.subarray(0, n), vectors: vectors.subarray(0, n * dims), lastRowId: done(r.rows.length) ? -1 : last }
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
export const indexStatements: IndexStatements = { createCurrentRowsIndex, createRowIdIndex, readVectors, readColumnValues, rowsEnded, countVectors, rowIdsWrittenAfter, countNewerRows, tableBlocks, estimatedRows }
