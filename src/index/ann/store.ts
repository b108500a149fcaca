import type { Queryable } from '../../store/index.ts'
import { dataTable, MAX_VERSION, quoteIdent, valueColumn } from '../../query/index.ts'

// The few statements the native index needs from the data table: its vectors by row, in _rowid pages, and the stamp
// (commit time) of a version, which tells a version that was reverted and written again from the one the index saw.

export interface VectorPage {
  readonly keys: BigUint64Array
  readonly vectors: Float32Array
  readonly lastRowId: number
}

/** Rows a page of vectors holds: ~256k floats (~1 MB as base64), a read of a few tens of ms in PGlite. */
export const vectorPageRows = (dims: number): number => Math.max(64, Math.min(8192, Math.floor(262_144 / Math.max(dims, 1))))

/**
 * Current rows whose vector was written in versions (after, upTo], after `afterRowId`, in _rowid order (the current
 * rows' _rowid index pages through them); `after` = -1 reads every current row written up to upTo. Rows changed
 * since upTo are the next catch-up's: the native index only serves reads of the current version.
 *
 * The vectors come out in pgvector's binary form (vector_send: a 4-byte header, then big-endian float4s) as
 * base64: printing floats as text is most of the cost of reading them out of PGlite (measured 2-3x slower), and
 * base64 decodes natively here.
 */
export async function readVectors(db: Queryable, tableId: number, valueColumnId: number, dims: number, range: { after: number; upTo: number }, afterRowId: number, limit: number): Promise<VectorPage> {
  const v = valueColumn(valueColumnId)
  const r = await db.query<{ r: string | number; v: string }>(
    `select _rowid as r, encode(vector_send(${v}::vector), 'base64') as v from ${dataTable(tableId)} where _v_max = ${MAX_VERSION} and _rowid > $3 and _v_min > $1 and _v_min <= $2 and ${v} is not null order by _rowid limit $4`,
    [range.after, range.upTo, afterRowId, limit],
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
  const last = r.rows.length > 0 ? Number(r.rows[r.rows.length - 1]!.r) : afterRowId
  return { keys: keys.subarray(0, n), vectors: vectors.subarray(0, n * dims), lastRowId: r.rows.length < limit ? -1 : last }
}

/**
 * Rows that stopped being current in versions (after, upTo] and have no current version now (deleted, not updated):
 * their keys leave the native index, so candidates are live rows.
 */
export async function rowsEnded(db: Queryable, tableId: number, after: number, upTo: number): Promise<BigUint64Array> {
  const t = dataTable(tableId)
  const r = await db.query<{ r: string | number }>(
    `select distinct d._rowid as r from ${t} d where d._v_max > $1 and d._v_max <= $2 and d._v_max <> ${MAX_VERSION} and not exists (select 1 from ${t} c where c._v_max = ${MAX_VERSION} and c._rowid = d._rowid)`,
    [after, upTo],
  )
  return BigUint64Array.from(r.rows, (x) => BigInt(x.r))
}

/** The commit time of a table version as text, or undefined when that version does not exist. */
export async function versionStamp(db: Queryable, tableId: number, version: number): Promise<string | undefined> {
  const r = await db.query<{ s: string }>(`select created_at::text as s from tessera.versions where table_id = $1 and version = $2`, [tableId, version])
  return r.rows[0]?.s
}

export async function currentVersion(db: Queryable, tableId: number): Promise<number | undefined> {
  const r = await db.query<{ version: number }>(`select version from tessera.tables where id = $1`, [tableId])
  return r.rows[0]?.version
}

/** How many current rows were written after `after`, counted up to `cap` (the _v_min index answers). */
export async function countNewerRows(db: Queryable, tableId: number, after: number, cap: number): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from (select 1 from ${dataTable(tableId)} where _v_min > $1 and _v_max = ${MAX_VERSION} limit $2) as newer`, [after, cap])
  return r.rows[0]!.n
}

/** How many 8 kB blocks the table's heap holds: what a block-paged exact search walks over (exact.ts). */
export async function tableBlocks(db: Queryable, tableId: number): Promise<number> {
  const r = await db.query<{ blocks: number }>(`select (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int as blocks`, [dataTable(tableId)])
  return r.rows[0]!.blocks
}

/** Current rows with a vector written up to `version` (what a complete index of that version holds). */
export async function countVectors(db: Queryable, tableId: number, valueColumnId: number, version: number): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from ${dataTable(tableId)} where _v_max = ${MAX_VERSION} and _v_min <= $1 and ${valueColumn(valueColumnId)} is not null`, [version])
  return r.rows[0]!.n
}

/**
 * The b-tree the query's candidate predicate (_rowid = any(...)) probes; created with an index on the embedded store.
 * Partial on current rows like the other index structures: older versions are searched exactly.
 */
export async function createRowIdIndex(tx: Queryable, tableId: number): Promise<void> {
  await tx.exec(`create index if not exists ${quoteIdent(`t${tableId}_rowid_cur`)} on ${dataTable(tableId)} (_rowid) where _v_max = ${MAX_VERSION}`)
}

// The embedded store's connection carries this setting while a native index manager is attached to it, so code that
// only gets a transaction (index creation, check) knows to leave pgvector's HNSW out on that store.
const MARK = 'tessera.native_ann'
export const markNative = (db: Queryable): Promise<void> => db.exec(`set ${MARK} = 'on'`)
export async function isNative(db: Queryable): Promise<boolean> {
  const r = await db.query<{ on: string | null }>(`select current_setting('${MARK}', true) as on`)
  return r.rows[0]?.on === 'on'
}
