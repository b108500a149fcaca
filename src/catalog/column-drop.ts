import { invalid } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import { directDependents } from './computed.ts'
import { dropScalarIndex, runningJobColumns } from './data-table/index.ts'
import type { ColumnMd, IfExists, TableMd } from './metadata.ts'
import type { TableState } from './state.ts'

// Dropping a column, as a step of a change: a drop of its own (Table#dropColumn) or the first half of a replace
// (ifExists: 'replace' / 'replace_force'), which drops and adds in one final transaction so that a failed replace
// leaves the table as it was and a successful one is one version.

/** The schema without `column`, after checking nothing still needs it; its scalar index goes (only current rows had it). */
export async function dropColumnStep(tx: Queryable, state: TableState, md: TableMd, column: ColumnMd): Promise<TableMd> {
  const name = column.name
  if (md.primaryKey.includes(column.id)) throw invalid('HAS_DEPENDENTS', `column '${name}' is part of the primary key of '${state.path}' and cannot be dropped`, { column: name })
  const iterator = md.view?.iterator
  if (iterator && (iterator.inputColumn ?? iterator.input) === name) throw invalid('HAS_DEPENDENTS', `column '${name}' is the input of the iterator of view '${state.path}' and cannot be dropped`, { column: name })
  const deps = directDependents(md, name)
  // An embedding index's vectors are a hidden computed column: name the index, which is what users created.
  const indexOf = (c: ColumnMd) => md.indexes?.find((i) => i.valueColumnId === c.id)
  // Indexes over a column of vectors read the column itself (no hidden column depends on it).
  const onColumn = (md.indexes ?? []).filter((i) => i.columnId === column.id && i.valueColumnId === column.id).map((i) => i.name)
  const depIndexes = [...deps.filter(indexOf).map((c) => indexOf(c)!.name), ...onColumn]
  // A running job computes its column hidden: name the job (what the user started), not that column.
  const jobs = deps.some((c) => c.hidden && !indexOf(c)) ? await runningJobColumns(tx, state.id) : []
  const jobOf = (c: ColumnMd) => jobs.find((j) => j.columnId === c.id)
  const depJobs = deps.filter(jobOf).map((c) => jobOf(c)!.column)
  const depColumns = deps.filter((c) => !indexOf(c) && !jobOf(c)).map((c) => c.name)
  if (deps.length > 0 || onColumn.length > 0) {
    const what = [
      ...(depJobs.length ? [`the running background job(s) computing column(s) ${depJobs.map((n) => `'${n}'`).join(', ')} (cancel them first: db.jobs.cancel, or POST /api/v1/jobs/{id}/cancel)`] : []),
      ...(depColumns.length ? [`computed column(s) ${depColumns.map((n) => `'${n}'`).join(', ')}`] : []),
      ...(depIndexes.length ? [`embedding index(es) ${depIndexes.map((n) => `'${n}'`).join(', ')} (dropEmbeddingIndex)`] : []),
    ]
    throw invalid('HAS_DEPENDENTS', `column '${name}' is used by ${what.join(' and ')}${depColumns.length || depIndexes.length ? '; drop those first' : ''}`, { column: name, dependents: [...depJobs, ...depColumns, ...depIndexes] })
  }
  // The data column stays: earlier versions still read it, and revert may bring it back. Its scalar index serves
  // only current rows, which no longer have the column: it goes.
  if (column.indexed) await dropScalarIndex(tx, state.id, column.id)
  return withoutColumns(md, [column])
}

/**
 * The columns a replace of `name` drops, dependents first: `name` and, with 'replace_force', the computed columns
 * that use it, directly or through one another (a column over a dropped one cannot stay: its drop step refused it,
 * so a replace_force of `s` under `up = upper(s)` and `up2 = up || '!'` failed). Refuses 'replace' when some do
 * (nothing is dropped then).
 */
export function replacedColumns(state: TableState, name: string, mode: IfExists): ColumnMd[] {
  const column = state.md.columns.find((c) => c.name === name)
  if (!column) return []
  const deps = directDependents(state.md, name)
  if (deps.length > 0 && mode !== 'replace_force') {
    throw invalid('HAS_DEPENDENTS', `column '${name}' is used by ${deps.map((d) => `'${d.name}'`).join(', ')}; use ifExists: 'replace_force' to drop them too`, { column: name })
  }
  return [...dependentsFirst(state.md, column), column]
}

/** Every computed column that uses `column`, directly or not, each after the columns that use it (post-order). */
function dependentsFirst(md: TableMd, column: ColumnMd): ColumnMd[] {
  const seen = new Set([column.id])
  const out: ColumnMd[] = []
  const visit = (c: ColumnMd) => {
    for (const d of directDependents(md, c.name)) {
      if (seen.has(d.id)) continue
      seen.add(d.id)
      visit(d)
      out.push(d)
    }
  }
  visit(column)
  return out
}

/** The schema a replace adds its column to: `state` without the replaced columns (checked in the final step). */
export function withoutReplaced(state: TableState, name: string, mode: IfExists): TableState {
  const gone = replacedColumns(state, name, mode)
  return gone.length === 0 ? state : { ...state, md: withoutColumns(state.md, gone) }
}

/** The replace's drops, in the final transaction of the change that adds the new column. */
export async function dropReplaced(tx: Queryable, state: TableState, name: string, mode: IfExists): Promise<TableState> {
  let md = state.md
  for (const c of replacedColumns(state, name, mode)) md = await dropColumnStep(tx, state, md, c)
  return { ...state, md }
}

function withoutColumns(md: TableMd, gone: readonly ColumnMd[]): TableMd {
  const ids = new Set(gone.map((c) => c.id))
  const indexes = md.indexes?.filter((i) => !ids.has(i.valueColumnId))
  return { ...md, columns: md.columns.filter((c) => !ids.has(c.id)), ...(indexes ? { indexes } : {}) }
}
