import type { Queryable } from '../store/index.ts'
import { errorMsgColumn, errorTypeColumn, valueColumn } from '../query/index.ts'
import { compareViewRows, countDuplicateKeys, countRowsWithoutVector, countRowVersionsOutside, dataColumnNames, physicalIndexNames } from './data-table/index.ts'
import type { ViewRowsComparison } from './data-table/index.ts'
import { loadTableById } from './state.ts'
import { BASE_ROWID } from './views.ts'
import type { TableState } from './state.ts'
import { fullTextIndexName, physicalIndexName, checkVectorIndexes, isNative } from '../index/index.ts'
import type { TableKind, TableMd } from './metadata.ts'
import { hasErrorColumns, isStored } from './metadata.ts'

// Integrity check of the catalog against the data: versions contiguous, data tables and columns present, row
// version bounds sane, primary keys unique among current rows, views and snapshots pointing at what exists, and
// embedding indexes whole (their physical indexes present, a vector for every current row that has an input).

export interface CheckProblem {
  readonly table: string
  readonly problem: string
}

/**
 * Whether a view found behind its base really is (not merely following it at this moment), and why if known;
 * without it, every view behind its base is reported.
 */
export type ViewBehind = (viewId: number, baseId: number) => Promise<{ readonly behind: boolean; readonly reason?: string }>

/** Runs `fn` under the lock views of base table `baseId` follow it under (no sync runs meanwhile). */
export type UnderBaseLock = <T>(baseId: number, fn: () => Promise<T>) => Promise<T>

export async function checkIntegrity(db: Queryable, viewBehind?: ViewBehind, underBaseLock?: UnderBaseLock): Promise<{ tables: number; problems: CheckProblem[] }> {
  const problems: CheckProblem[] = []
  const tables = await db.query<{ id: number; path: string; kind: TableKind; version: number; md: TableMd }>(`select id, path, kind, version, md from tessera.tables order by path`)
  const byId = new Map(tables.rows.map((t) => [Number(t.id), t]))
  for (const t of tables.rows) {
    const id = Number(t.id)
    const p = (problem: string) => problems.push({ table: t.path, problem })
    const versions = (await db.query<{ version: number }>(`select version from tessera.versions where table_id = $1 order by version`, [id])).rows.map((r) => r.version)
    if (versions.length !== t.version + 1 || versions.some((v, i) => v !== i)) p(`versions are not 0..${t.version} without gaps (found ${versions.length} versions)`)
    if (t.md.snapshot) {
      const base = byId.get(t.md.snapshot.baseId)
      if (!base) p(`snapshot of a table that no longer exists (#${t.md.snapshot.baseId})`)
      else if (base.version < t.md.snapshot.version) p(`snapshot pins version ${t.md.snapshot.version} but '${base.path}' is at ${base.version}`)
      continue
    }
    if (t.md.view) {
      const base = byId.get(t.md.view.baseId)
      if (!base) p(`view of a table that no longer exists (#${t.md.view.baseId})`)
      else if (t.md.view.syncedBaseVersion > base.version) p(`view reflects base version ${t.md.view.syncedBaseVersion} but '${base.path}' is at ${base.version}`)
      else if (t.md.view.syncedBaseVersion < base.version) {
        // A sync that failed after its base committed: the view serves the rows of an older base version.
        const r = viewBehind ? await viewBehind(id, Number(base.id)) : { behind: true }
        if (r.behind) p(`view has not followed '${base.path}' since its version ${t.md.view.syncedBaseVersion} (it is at ${base.version})${r.reason ? `: ${r.reason}` : ''}; opening the view retries`)
      } else {
        for (const problem of await checkViewRows(db, id, Number(base.id), underBaseLock)) p(problem)
      }
    }
    const have = new Set(await dataColumnNames(db, id))
    if (have.size === 0) {
      p(`data table tessera_data.t${id} is missing`)
      continue
    }
    for (const c of t.md.columns.filter(isStored)) {
      const needed = [valueColumn(c.id), ...(hasErrorColumns(c) ? [errorTypeColumn(c.id), errorMsgColumn(c.id)] : [])]
      for (const n of needed) if (!have.has(n)) p(`column '${c.name}' has no data column ${n}`)
    }
    const bad = await countRowVersionsOutside(db, id, t.version)
    if (bad > 0) p(`${bad} row versions lie outside versions 0..${t.version}`)
    if (t.md.primaryKey.length > 0 && t.md.primaryKey.every((cid) => have.has(valueColumn(cid)))) {
      const dup = await countDuplicateKeys(db, id, t.md.primaryKey)
      if (dup > 0) p(`${dup} primary keys appear more than once among current rows`)
    }
    await checkIndexes(db, id, t.md, have, p)
  }
  return { tables: tables.rows.length, problems }
}

/** An embedding index's HNSW (and full-text) index exist, and no current row with an input lacks its vector. */
async function checkIndexes(db: Queryable, id: number, md: TableMd, have: Set<string>, p: (problem: string) => void): Promise<void> {
  if (!md.indexes?.length) return
  const physical = new Set(await physicalIndexNames(db, id))
  // The embedded store keeps a native index beside PGlite instead of HNSW (src/index/ann/): check that one.
  const native = await isNative(db)
  if (native) for (const problem of await checkVectorIndexes(db, id, md)) p(problem)
  for (const idx of md.indexes) {
    const vectors = valueColumn(idx.valueColumnId)
    if (!md.columns.some((c) => c.id === idx.valueColumnId)) p(`index '${idx.name}' has no vectors column in the schema`)
    if (!native && !physical.has(physicalIndexName(id, idx))) p(`index '${idx.name}' has no HNSW index ${physicalIndexName(id, idx)}`)
    if (idx.fullText && !physical.has(fullTextIndexName(id, idx.columnId, idx.fullText.language))) p(`index '${idx.name}' has no full-text index ${fullTextIndexName(id, idx.columnId, idx.fullText.language)}`)
    // An index over a column of vectors reads the column itself: no row can lack its vector.
    if (idx.valueColumnId === idx.columnId || !have.has(vectors) || !have.has(valueColumn(idx.columnId))) continue
    const missing = await countRowsWithoutVector(db, id, idx.columnId, idx.valueColumnId)
    if (missing > 0) p(`index '${idx.name}': ${missing} current rows have a value but no vector (rebuild it: addEmbeddingIndex with ifExists: 'replace')`)
  }
}

/**
 * A view that reflects its base's current version holds exactly the base rows that pass its filter (one view row each
 * unless it has an iterator), with the carried columns' values. A difference found while a sync may be writing is
 * looked at again under the base's lock, where no sync runs.
 */
async function checkViewRows(db: Queryable, viewId: number, baseId: number, underBaseLock?: UnderBaseLock): Promise<string[]> {
  const compare = async (): Promise<string[]> => {
    const view = await loadTableById(db, viewId)
    const base = await loadTableById(db, baseId)
    if (!view?.md.view || !base || view.md.view.syncedBaseVersion !== base.version) return []
    try {
      return describeViewDifference(base, await compareViewRows(db, base, base.version, view.id, view.version, { ...view.md.view, baseColumns: comparableColumns(view, base) }, baseRowIdColumn(view)))
    } catch (e) {
      return [`its filter cannot be evaluated over '${base.path}' to compare the rows: ${(e as Error).message}`]
    }
  }
  const found = await compare()
  return found.length === 0 || !underBaseLock ? found : underBaseLock(baseId, compare)
}

/** The carried column pairs whose view and base columns both still exist as stored columns. */
function comparableColumns(view: TableState, base: TableState): (readonly [number, number])[] {
  const stored = (s: TableState, id: number) => s.md.columns.some((c) => c.id === id && isStored(c))
  return view.md.view!.baseColumns.filter(([vid, bid]) => stored(view, vid) && stored(base, bid))
}

const baseRowIdColumn = (view: TableState): string => valueColumn(view.md.columns.find((c) => c.name === BASE_ROWID)!.id)

function describeViewDifference(base: TableState, d: ViewRowsComparison): string[] {
  const out: string[] = []
  const at = `'${base.path}' at version ${base.version}`
  if (d.missing > 0) out.push(`${d.missing} rows of ${at} pass the view's filter but are not in the view`)
  if (d.extra > 0) out.push(`${d.extra} view rows belong to no row of ${at} that passes its filter`)
  if (d.duplicated > 0) out.push(`${d.duplicated} rows of ${at} appear more than once in the view`)
  if (d.differing > 0) out.push(`${d.differing} view rows differ from their base row in a column carried from ${at}`)
  return out
}
