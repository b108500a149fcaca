import { notFound } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import type { TableKind, TableMd, VersionKind } from './metadata.ts'

/** A table as the catalog knows it at one moment: identity, current version and schema. */
export interface TableState {
  readonly id: number
  readonly path: string
  readonly kind: TableKind
  readonly version: number
  readonly md: TableMd
}

/** A row of tessera.tables as the store returns it. */
export interface TableRow {
  id: number
  path: string
  kind: TableKind
  version: number
  md: TableMd
}

const toState = (r: TableRow): TableState => ({ id: Number(r.id), path: r.path, kind: r.kind, version: r.version, md: r.md })

export async function loadTableByPath(db: Queryable, path: string): Promise<TableState | undefined> {
  const r = await db.query<TableRow>(`select id, path, kind, version, md from tessera.tables where path = $1`, [path])
  return r.rows[0] ? toState(r.rows[0]) : undefined
}

export async function loadTableById(db: Queryable, id: number): Promise<TableState | undefined> {
  const r = await db.query<TableRow>(`select id, path, kind, version, md from tessera.tables where id = $1`, [id])
  return r.rows[0] ? toState(r.rows[0]) : undefined
}

/** Locks the table's catalog row for the rest of the transaction and returns its committed state. */
export async function lockTableRow(tx: Queryable, id: number, path: string): Promise<TableState> {
  const r = await tx.query<TableRow>(`select id, path, kind, version, md from tessera.tables where id = $1 for update`, [id])
  if (!r.rows[0]) throw notFound('TABLE_NOT_FOUND', `table '${path}' no longer exists`, { path })
  return toState(r.rows[0])
}

export interface VersionCounts {
  readonly inserted?: number
  readonly updated?: number
  readonly deleted?: number
  readonly errors?: number
}

/** Records `version` as the table's new current version, with the schema it has from now on. */
export async function commitVersion(tx: Queryable, id: number, version: number, kind: VersionKind, md: TableMd, counts: VersionCounts = {}): Promise<void> {
  // One statement, the schema sent once: every commit's final step waited for two round trips to the store here.
  await tx.query(
    `with moved as (update tessera.tables set version = $2, md = $8::jsonb where id = $1)
     insert into tessera.versions(table_id, version, kind, inserted, updated, deleted, errors, md) values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
    [id, version, kind, counts.inserted ?? 0, counts.updated ?? 0, counts.deleted ?? 0, counts.errors ?? 0, JSON.stringify(md)],
  )
}

/** The schema a table had at a version (time travel reads the rows visible then, through the columns it had then). */
export async function mdAtVersion(db: Queryable, id: number, path: string, version: number): Promise<TableMd> {
  const r = await db.query<{ md: TableMd }>(`select md from tessera.versions where table_id = $1 and version = $2`, [id, version])
  if (!r.rows[0]) throw notFound('VERSION_NOT_FOUND', `table '${path}' has no version ${version}`, { path, version })
  return r.rows[0].md
}

/** Makes `version - 1` the table's current version again, with schema `md` (revert: the version's rows are undone). */
export async function popVersion(tx: Queryable, id: number, version: number, md: TableMd): Promise<void> {
  await tx.query(`delete from tessera.versions where table_id = $1 and version = $2`, [id, version])
  await tx.query(`update tessera.tables set version = $2, md = $3::jsonb where id = $1`, [id, version - 1, JSON.stringify(md)])
}
