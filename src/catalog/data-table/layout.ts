import { DATA_SCHEMA, dataTable, errorMsgColumn, errorTypeColumn, MAX_VERSION, quoteIdent, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { dataColumnNames } from './check.ts'
import { parseType, pgType } from '../../types/index.ts'
import type { ColumnMd, TableMd } from '../metadata.ts'
import { hasErrorColumns, isStored } from '../metadata.ts'

// Physical layout of a user table: one Postgres table tessera_data.t<id> with
//   _rowid  insertion order; shared by all versions of a row
//   _v_min  first version the row version is visible in
//   _v_max  first version it is no longer visible in (MAX_VERSION while current)
//   c<id>   one column per Tessera column (c<id>_et / c<id>_em hold per-cell errors of computed columns)

export function physicalColumns(c: ColumnMd): string[] {
  if (!isStored(c)) return []
  const cols = [`${valueColumn(c.id)} ${pgType(parseType(c.type))}`]
  if (hasErrorColumns(c)) cols.push(`${errorTypeColumn(c.id)} text`, `${errorMsgColumn(c.id)} text`)
  return cols
}

export async function createDataTable(tx: Queryable, id: number, md: TableMd): Promise<void> {
  const t = dataTable(id)
  const cols = md.columns.flatMap(physicalColumns)
  await tx.exec(`create table ${t} (_rowid bigserial not null, _v_min integer not null, _v_max integer not null default ${MAX_VERSION}${cols.map((c) => `, ${c}`).join('')})`)
  // Row versions by the version that made them (revert, view sync, recompute of a version's rows). Insertion
  // order (head/tail) needs no index of its own: a top-N sort over a scan is cheap, an index on every insert is not
  // (measured: dropping it took library inserts from ~0.64x to ~0.8x of raw PGlite).
  await tx.exec(`create index ${quoteIdent(`t${id}_vmin`)} on ${t} (_v_min)`)
  await tx.exec(`create index ${quoteIdent(`t${id}_vmax`)} on ${t} (_v_max) where _v_max <> ${MAX_VERSION}`)
  if (md.primaryKey.length > 0) {
    const key = md.primaryKey.map((cid) => valueColumn(cid)).join(', ')
    // One index serves both the key's uniqueness among current rows (they all have _v_max = MAX) and lookups of a
    // key at any version (its prefix). Ended versions of a key differ in _v_max, since a version changes a row once.
    await tx.exec(`create unique index ${quoteIdent(`t${id}_pk`)} on ${t} (${key}, _v_max)`)
  }
}

/** The sequence behind a data table's `_rowid` (bigserial's own name for it), as a regclass literal. */
export const rowIdSequence = (id: number): string => `'${DATA_SCHEMA}.t${id}__rowid_seq'::regclass`

export async function dropDataTable(tx: Queryable, id: number): Promise<void> {
  await tx.exec(`drop table if exists ${dataTable(id)}`)
}

export async function addPhysicalColumn(tx: Queryable, id: number, c: ColumnMd, options: { ifNotExists?: boolean } = {}): Promise<void> {
  if (!isStored(c)) return
  const add = options.ifNotExists ? 'add column if not exists' : 'add column'
  await tx.exec(`alter table ${dataTable(id)} ${physicalColumns(c).map((p) => `${add} ${p}`).join(', ')}`)
}

export async function dropPhysicalColumn(tx: Queryable, id: number, c: ColumnMd): Promise<void> {
  if (!isStored(c)) return
  const names = [valueColumn(c.id), ...(hasErrorColumns(c) ? [errorTypeColumn(c.id), errorMsgColumn(c.id)] : [])]
  await tx.exec(`alter table ${dataTable(id)} ${names.map((n) => `drop column if exists ${n}`).join(', ')}`)
}

export async function countCurrentRows(db: Queryable, id: number): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from ${dataTable(id)} where _v_max = ${MAX_VERSION}`)
  return r.rows[0]!.n
}

/**
 * Drops the data columns (values and per-cell errors) of the column ids `drop` picks; returns their names (dryRun:
 * the names it would drop). Compaction drops what no retained version reads; opening drops what no commit made.
 */
export async function dropDataColumnsWhere(tx: Queryable, tableId: number, drop: (columnId: number) => boolean, dryRun = false): Promise<string[]> {
  const names = (await dataColumnNames(tx, tableId)).filter((n) => {
    const m = /^c(\d+)(_et|_em)?$/.exec(n)
    return m !== null && drop(Number(m[1]))
  })
  if (names.length > 0 && !dryRun) await tx.exec(`alter table ${dataTable(tableId)} ${names.map((n) => `drop column if exists ${quoteIdent(n)}`).join(', ')}`)
  return names
}
