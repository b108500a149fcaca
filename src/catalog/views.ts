import { alreadyExists, invalid } from '../errors.ts'
import type { TesseraError } from '../errors.ts'
import { ColumnScope, columnRefs, computedPlans, directDependents, readErrorKeys, renameColumnRefs } from './computed.ts'
import type { ExprNode, CellError } from '../query/index.ts'
import { colNode, containsAggregate, fnNode, inlineUnstored, isSqlExpr, printExpr, valueColumn, typeOf } from '../query/index.ts'
import type { Queryable } from '../store/index.ts'
import { formatType, fromStore, isMedia, parseType } from '../types/index.ts'
import { clearStoreRefs } from '../media/index.ts'
import type { ColumnMd, TableMd, ViewMd } from './metadata.ts'
import { computeTsColumns, insertRows } from './rows.ts'
import type { WriteCounts } from './rows.ts'
import { commitLocked } from './commit.ts'
import { addPhysicalColumn, dropPhysicalColumn, dropScalarIndex, endRowsOfEndedBaseRows, endRowVersions, fillCarriedColumns, latestVersionKind, readEnteringBaseRows, readLeavingViewRows, viewRowsOfEndedBaseRows } from './data-table/index.ts'
import type { ViewDelta } from './data-table/index.ts'
import { hasErrorColumns, isStored } from './metadata.ts'
import { computeKeeping, LeavingRows, viewRowKey } from './views-keep.ts'
import type { TsValues } from './views-keep.ts'
import type { CatalogContext } from './table.ts'
import type { TableState } from './state.ts'
import { mdAtVersion } from './state.ts'
import type { Row } from './validate-rows.ts'
import { assertRevertRetained } from './retention.ts'
import { viewRows } from './failed-rows.ts'

// Views follow their base table. A view stores its own rows (the base columns it carries, iterator outputs, its own
// computed columns) in its own data table, with a hidden _base_rowid naming the base row each came from.
// After every base change, the delta between the base version the view reflects and the current one is applied:
// base row versions that ended leave the view, new current ones enter it (filtered, expanded by the iterator,
// computed). Each sync is one view version, so a base revert can be mirrored by reverting that view version.
// Schema changes of the base are followed by the same sync (followBaseSchema): added base columns are carried, renames
// are applied to the view's columns, where and computed columns, and dropped ones leave the view. A base change the
// view could not follow (dropping a column its where uses) is refused before the base commits (assertFollowable):
// once the base has committed, its sync must not fail on the schema.

export const BASE_ROWID = '_base_rowid'

/** An iterator: one input value → many rows. src/iterators/ provides them by name. */
export interface ViewIterator {
  readonly outputs: Readonly<Record<string, string>>
  /** The type of value it expands ('document', 'string', 'image', ...): its input column must be of that type. */
  readonly input?: string
  /** Option names it takes; others are refused when the view is made. */
  readonly options?: readonly string[]
  /** Outputs computed when read instead of stored (unstored video frames): a function over 'input' and outputs. */
  onRead?(args: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, { readonly type: string; readonly fn: string; readonly args: readonly string[] }>>
  run(input: unknown, args: Readonly<Record<string, unknown>>): AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>
}

export type IteratorResolver = (name: string) => Promise<ViewIterator>

export interface ViewSpec {
  readonly where?: ExprNode
  readonly iterator?: { readonly name: string; readonly input: string; readonly args?: Readonly<Record<string, unknown>> }
}

/** The metadata of a new view over `base`: all visible base columns, then pos + iterator outputs. */
export async function viewMd(base: TableState, spec: ViewSpec, resolveIterator: IteratorResolver): Promise<TableMd> {
  const baseScope = new ColumnScope(base.md, (c) => `b.${valueColumn(c.id)}`)
  if (spec.where) {
    const t = typeOf(spec.where, baseScope)
    if (t.kind !== 'bool') throw invalid('INVALID_EXPRESSION', `a view's where must be boolean, got ${formatType(t)} from ${printExpr(spec.where)}`)
    // Checked here, or the store refuses it on the first sync in its own words (a 500 over HTTP).
    if (containsAggregate(spec.where)) throw invalid('INVALID_EXPRESSION', `a view's where cannot aggregate (it keeps or drops each base row by itself): ${printExpr(spec.where)}`)
    // The filter runs in the store (data-table/views.ts), with unstored base columns read by their definitions: one
    // that calls TypeScript failed there as an internal error ("f has no SQL form").
    if (!isSqlExpr(inlineUnstored(spec.where, [{ path: base.path, tableId: base.id, md: base.md, version: undefined }]))) {
      throw invalid('INVALID_EXPRESSION', `a view's where must run in SQL, and ${printExpr(spec.where)} calls TypeScript (a UDF or model); store that value in a computed column of '${base.path}' and filter on it`)
    }
  }
  const columns: ColumnMd[] = []
  const baseColumns: [number, number][] = []
  const baseUnstored: [number, number][] = []
  for (const c of base.md.columns.filter((x) => !x.hidden)) {
    const id = columns.length
    // An unstored base column stays unstored here: the same definition over the carried columns.
    if (c.computed?.stored === false) {
      columns.push({ id, name: c.name, type: c.type, addedIn: 0, computed: c.computed })
      baseUnstored.push([id, c.id])
      continue
    }
    columns.push(carriedColumn(c, id, c.name, 0))
    baseColumns.push([id, c.id])
  }
  if (spec.iterator) {
    // Hidden columns (an index's vectors, a job's column) are not carried, so they are not in the view to expand.
    const input = base.md.columns.find((c) => c.name === spec.iterator!.input && !c.hidden)
    if (!input) throw invalid('COLUMN_NOT_FOUND', `iterator input column '${spec.iterator.input}' is not in '${base.path}'`)
    // A column computed when read has no value in the base rows a sync reads (it crashed looking for its carried
    // column, a TypeError): refused by name.
    if (input.computed?.stored === false) {
      throw invalid('INVALID_ARGUMENT', `iterator input column '${input.name}' of '${base.path}' is computed when read (stored: false), so a view cannot expand it; iterate over a stored column (addComputedColumn without stored: false)`, { column: input.name, iterator: spec.iterator.name })
    }
    const it = await resolveIterator(spec.iterator.name)
    // An iterator reads its input as the type it declares: a string_splitter over a document column split the file's
    // path, a document_splitter over a string column opened the strings as server file paths.
    if (it.input !== undefined && parseType(input.type).kind !== parseType(it.input).kind) {
      throw invalid('INVALID_TYPE', `iterator '${spec.iterator.name}' takes a ${it.input} input, but column '${input.name}' of '${base.path}' is ${input.type}; pick a column of type ${it.input}`, { iterator: spec.iterator.name, column: input.name, expected: it.input, actual: input.type })
    }
    const args = spec.iterator.args ?? {}
    const unknown = it.options ? Object.keys(args).filter((k) => !it.options!.includes(k)) : []
    if (unknown.length > 0) throw invalid('INVALID_ARGUMENT', `${spec.iterator.name}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; it takes ${it.options!.map((k) => `'${k}'`).join(', ')}`, { iterator: spec.iterator.name })
    const onRead = it.onRead?.(args) ?? {}
    for (const [name, type] of [['pos', 'int'], ...Object.entries(it.outputs)] as const) {
      // An output named like a base column wins the name; the base column is carried as base_<name>.
      const clash = columns.findIndex((c) => c.name === name)
      if (clash >= 0) columns[clash] = { ...columns[clash]!, name: `base_${name}` }
      if (onRead[name]) continue
      columns.push({ id: columns.length, name, type: formatType(parseType(type)), addedIn: 0 })
    }
    // Outputs computed when read: unstored columns over the input column and the stored outputs.
    const inputName = inputColumnName(columns, baseColumns, base, spec.iterator.input)
    for (const [name, r] of Object.entries(onRead)) {
      const expr = fnNode(r.fn, r.args.map((a) => colNode(a === 'input' ? inputName : a)))
      columns.push({ id: columns.length, name, type: formatType({ ...parseType(r.type), nullable: true }), addedIn: 0, computed: { expr, onError: 'abort', stored: false } })
    }
  }
  columns.push({ id: columns.length, name: BASE_ROWID, type: 'int', addedIn: 0, hidden: true })
  const view: ViewMd = {
    baseId: base.id,
    ...(spec.where ? { where: spec.where } : {}),
    ...(spec.iterator ? { iterator: { name: spec.iterator.name, input: spec.iterator.input, inputColumn: inputColumnName(columns, baseColumns, base, spec.iterator.input), args: spec.iterator.args ?? {} } } : {}),
    baseColumns,
    baseUnstored,
    syncedBaseVersion: -1,
  }
  return { columns, primaryKey: [], nextColumnId: columns.length, mediaValidation: 'on_read', view }
}

/**
 * The view column that carries base column `c`: nullable, and with the base's per-cell errors where the base stores
 * them (a computed column's, a media column's), so that `v.c.x.errortype` answers as `t.c.x.errortype` does. Views
 * made before carried no errors: their columns keep refusing errortype (no cellErrors) until the view is made again.
 */
function carriedColumn(c: ColumnMd, id: number, name: string, addedIn: number): ColumnMd {
  return { id, name, type: formatType({ ...parseType(c.type), nullable: true }), addedIn, ...(hasErrorColumns(c) ? { cellErrors: true as const } : {}) }
}

/** The view columns (ids) of `pairs` that carry their base column's per-cell errors. */
function carryingErrors(columns: readonly ColumnMd[], base: TableMd, pairs: readonly (readonly [number, number])[]): Set<number> {
  const ids = new Set<number>()
  for (const [vid, bid] of pairs) {
    const vc = columns.find((c) => c.id === vid)
    const bc = base.columns.find((c) => c.id === bid)
    if (vc?.cellErrors && bc && hasErrorColumns(bc)) ids.add(vid)
  }
  return ids
}

/** Per row, the carried cells' errors that enteringRows put on it (readErrorKeys), as insertRows takes them. */
function carriedErrors(rows: readonly Row[], md: TableMd): (Record<string, CellError> | undefined)[] {
  const names = md.columns.filter((c) => c.cellErrors && !c.computed).map((c) => c.name)
  return rows.map((row) => {
    let out: Record<string, CellError> | undefined
    for (const name of names) {
      const keys = readErrorKeys(name)
      if (row[keys.errortype] != null) (out ??= {})[name] = { errortype: String(row[keys.errortype]), errormsg: String(row[keys.errormsg] ?? '') }
    }
    return out
  })
}

/** The view column carrying the iterator's input (renamed base_<name> when an output took its name). */
function inputColumnName(columns: readonly ColumnMd[], baseColumns: readonly (readonly [number, number])[], base: TableState, input: string): string {
  const baseId = base.md.columns.find((c) => c.name === input)!.id
  const viewId = baseColumns.find(([, b]) => b === baseId)![0]
  return columns.find((c) => c.id === viewId)!.name
}

/** Reads the base rows that enter the view in a delta (current at its `to`), as view input rows. */
async function enteringRows(db: Queryable, base: TableState, view: TableState, delta: ViewDelta): Promise<Row[]> {
  // A carried column the view dropped (dropColumn on the view) keeps its pair, which is read no more.
  const vmd = { ...view.md.view!, baseColumns: view.md.view!.baseColumns.filter(([vid]) => view.md.columns.some((c) => c.id === vid)) }
  const withErrors = carryingErrors(view.md.columns, base.md, vmd.baseColumns)
  const r = await readEnteringBaseRows(db, base, vmd, delta, withErrors)
  return r.map((row) => {
    const out: Row = { [BASE_ROWID]: row._rid }
    for (const [vid, bid] of vmd.baseColumns) {
      const vc = view.md.columns.find((c) => c.id === vid)!
      const bc = base.md.columns.find((c) => c.id === bid)
      out[vc.name] = bc ? fromStore(parseType(bc.type), row[`v${vid}`]) : null
      // The cell's error rides on the row beside its value, under the keys computed columns read errors by.
      if (withErrors.has(vid)) {
        const keys = readErrorKeys(vc.name)
        out[keys.errortype] = row[`et${vid}`] ?? null
        out[keys.errormsg] = row[`em${vid}`] ?? null
      }
    }
    return out
  })
}

/**
 * Expands entering rows through the view's iterator (pos 0..n-1 per base row) and computes the view's TypeScript
 * columns, batch by batch (src/iterators/expand.ts), so computed values are made for a bounded number of rows at a time.
 * A row entering in place of a leaving one keeps its _rowid and the computed values whose inputs did not change
 * (views-keep.ts).
 */
async function expandAndCompute(rows: Row[], view: TableState, leaving: LeavingRows, resolveIterator: IteratorResolver, counts: WriteCounts): Promise<{ rows: Row[]; ts: TsValues; rowIds: (number | undefined)[] }> {
  const plans = computedPlans(view.md)
  const spec = view.md.view!.iterator
  // A failing row is named by its values, not its place in this batch (failed-rows.ts).
  const names = (batch: readonly Row[]) => viewRows(view, batch)
  if (!spec) return { rows, ...(await computeKeeping(plans, rows, leaving, view.path, counts, names)) }
  const it = await resolveIterator(spec.name)
  const { expandInBatches } = await import('../iterators/index.ts')
  const out: Row[] = []
  const ts: TsValues = new Map()
  const rowIds: (number | undefined)[] = []
  const opts = { input: spec.inputColumn ?? spec.input, args: spec.args, rowId: (r: Row) => r[BASE_ROWID], view: view.path, iterator: spec.name }
  // The base's media cells (checked when written) are within the caller's reach: the iterator reads them without a
  // lookup per row (src/media/read-gate.ts).
  const inputType = view.md.columns.find((c) => c.name === opts.input)?.type
  if (inputType && isMedia(parseType(inputType))) clearStoreRefs(rows.map((r) => r[opts.input]))
  for await (const batch of expandInBatches(it as never, rows, opts)) {
    const computed = await computeKeeping(plans, batch, leaving, view.path, counts, names)
    for (const [id, r] of computed.ts) {
      const acc = ts.get(id) ?? { values: [], errors: [] }
      for (let i = 0; i < r.values.length; i++) (acc.values.push(r.values[i]), acc.errors.push(r.errors[i] ?? null))
      ts.set(id, acc)
    }
    for (const id of computed.rowIds) rowIds.push(id)
    for (const r of batch) out.push(r)
  }
  return { rows: out, ts, rowIds }
}

/**
 * Entering rows in the order they are written: first those that keep the _rowid of the row they replace, then new
 * ones (which get theirs from the sequence), each with its slice of the computed values.
 */
function splitByIdentity(rows: readonly Row[], ts: TsValues, rowIds: readonly (number | undefined)[]): { kept: WriteGroup; fresh: WriteGroup } {
  const pick = (want: boolean): WriteGroup => {
    const idx = rows.flatMap((_, i) => ((rowIds[i] !== undefined) === want ? [i] : []))
    const values: TsValues = new Map([...ts].map(([id, r]) => [id, { values: idx.map((i) => r.values[i]), errors: idx.map((i) => r.errors[i] ?? null) }]))
    return { rows: idx.map((i) => rows[i]!), ts: values, ...(want ? { rowIds: idx.map((i) => rowIds[i]!) } : {}) }
  }
  return { kept: pick(true), fresh: pick(false) }
}

interface WriteGroup {
  readonly rows: Row[]
  readonly ts: TsValues
  readonly rowIds?: number[]
}

/**
 * Brings a view up to its base's current version, as one view version through the commit unit. Call with the view's
 * lock held; base row versions are read by version range, so a base write in progress stays unseen.
 * With `undo` (a base revert the view cannot mirror by popping its latest sync, because that sync covered several
 * base versions: its first, or a catch-up), the view instead goes back to the base's current version in a new
 * version: the rows its latest sync touched, and those of base rows changed since the base version before it, are
 * replaced by their base rows' current versions (data-table/views.ts). The revert guard (assertBaseRevertable) lets
 * this happen only for a revert that changed no columns, so the view's schema stays.
 * Returns the view's new state, or undefined when it was already in step.
 */
export async function syncView(ctx: CatalogContext, view: TableState, base: TableState, resolveIterator: IteratorResolver, options: { undo?: boolean } = {}): Promise<TableState | undefined> {
  const baseRowIdColumn = valueColumn(view.md.columns.find((c) => c.name === BASE_ROWID)!.id)
  const delta = options.undo ? await undoDelta(ctx.db, view, base, baseRowIdColumn) : { from: view.md.view!.syncedBaseVersion, to: base.version, viewId: view.id, baseRowIdColumn }
  const { from, to } = delta
  if (!options.undo && from >= to) return undefined
  const staged = ctx.db.capabilities.stagedWrites === true
  // The base's schema when the view last followed it: the names its where and iterator input are written in.
  const before = options.undo || from < 0 ? base.md : await mdAtVersion(ctx.db, base.id, base.path, from)
  const follow = (state: TableState, version: number) => followBaseSchema(state, base.path, before, base.md, version)
  const iterated = view.md.view!.iterator !== undefined
  const { committed } = await commitLocked(ctx, view.id, {
    kind: 'sync',
    // Slow work (iterators, TypeScript-computed columns) happens before any write, in bounded batches. On a store
    // that stages writes, the view rows that leave are listed too and ended in steps after the entering ones.
    prepare: async (state, counts) => {
      // Entering rows are read, expanded and computed with the view's schema as it follows the base's.
      const followed = follow(state, state.version + 1)
      const target = { ...state, md: followed.md }
      const old = new LeavingRows(state.md, await readLeavingViewRows(ctx.db, base.id, delta, state.md.columns.filter(isStored)), viewRowKey(BASE_ROWID, iterated))
      const computed = await expandAndCompute(await enteringRows(ctx.db, base, target, delta), target, old, resolveIterator, counts)
      const { kept, fresh } = splitByIdentity(computed.rows, computed.ts, computed.rowIds)
      const leaving = staged ? await viewRowsOfEndedBaseRows(ctx.db, base.id, delta) : undefined
      const errors = { kept: carriedErrors(kept.rows, target.md), fresh: carriedErrors(fresh.rows, target.md) }
      return { kept, fresh, errors, leaving, followed }
    },
    rows: {
      count: (p) => p.kept.rows.length + p.fresh.rows.length + (p.leaving?.length ?? 0),
      write: async (tx, state, version, p, counts, start, end) => {
        const k = p.kept.rows.length
        const n = k + p.fresh.rows.length
        const target = { ...state, md: p.followed.md }
        // Columns the view gains get their data columns before the first rows that carry them.
        if (start === 0) for (const c of p.followed.added) await addPhysicalColumn(tx, state.id, c, { ifNotExists: true })
        if (start < k) await insertRows(tx, target, version, p.kept.rows, p.kept.ts, counts, p.kept.rowIds, p.errors.kept, start, Math.min(end, k))
        if (end > k && start < n) await insertRows(tx, target, version, p.fresh.rows, p.fresh.ts, counts, undefined, p.errors.fresh, Math.max(0, start - k), Math.min(end, n) - k)
        if (end > n) counts.deleted += await endRowVersions(tx, state.id, version, p.leaving!.slice(Math.max(0, start - n), end - n))
      },
    },
    undo: async (tx, state, p) => {
      for (const c of p.followed.added) await dropPhysicalColumn(tx, state.id, c)
    },
    apply: async (tx, locked, version, p, counts) => {
      // The view rows of base rows that changed in the delta leave (those written under `version` stay).
      if (!p.leaving) counts.deleted += await endRowsOfEndedBaseRows(tx, base.id, delta, version)
      const followed = follow(locked, version)
      for (const c of followed.added) await addPhysicalColumn(tx, locked.id, c, { ifNotExists: true })
      // Rows already in the view get the base's values of the columns it gains (a computed column the base just
      // backfilled, say), in place: no earlier view version has those columns.
      const pairs = followed.md.view!.baseColumns.filter(([vid]) => followed.added.some((c) => c.id === vid))
      await fillCarriedColumns(tx, locked.id, baseRowIdColumn, base.id, pairs, to, version, carryingErrors(followed.md.columns, base.md, pairs))
      // As in dropColumn: the data column stays for earlier versions; a scalar index serves current rows only.
      for (const c of followed.dropped) if (c.indexed) await dropScalarIndex(tx, locked.id, c.id)
      return { ...followed.md, view: { ...followed.md.view!, syncedBaseVersion: to } }
    },
  })
  return committed
}

/**
 * The delta that takes a view whose latest sync reflects a base version now reverted back to the base's current
 * version: from the base version the view reflected before that sync.
 */
async function undoDelta(db: Queryable, view: TableState, base: TableState, baseRowIdColumn: string): Promise<ViewDelta> {
  const last = await latestVersionKind(db, view.id)
  if (last !== 'sync' || view.md.view!.syncedBaseVersion <= base.version) {
    throw invalid('HAS_DEPENDENTS', `view '${view.path}' cannot follow the revert of '${base.path}': its latest version, '${last ?? 'create'}', reflects version ${view.md.view!.syncedBaseVersion}`, { view: view.path })
  }
  const prev = await mdAtVersion(db, view.id, view.path, view.version - 1)
  return { from: prev.view!.syncedBaseVersion, to: base.version, undoViewVersion: view.version, viewId: view.id, baseRowIdColumn }
}

/** A view's schema after its base's changed from `before` to `after` (followBaseSchema). */
export interface FollowedSchema {
  readonly md: TableMd
  /** Stored columns the view gains: it carries them from the base. */
  readonly added: readonly ColumnMd[]
  /** Columns the view loses with the base's. */
  readonly dropped: readonly ColumnMd[]
}

/**
 * The view's schema once it follows its base's schema change from `before` (the base's schema at the view's last
 * sync) to `after`, as of view version `version`:
 * - a base column added (or shown: a job's finished column) is carried, under its name, or base_<name> where the view
 *   has a column of that name of its own (as for iterator outputs at creation); values come from the base;
 * - a renamed base column is renamed in the view (unless the view renamed it itself), in its where, its iterator
 *   input and its computed columns' expressions;
 * - a dropped (or replaced) base column leaves the view; refused, naming the view, while the view's where, iterator
 *   or own computed columns and indexes use it: their rows could not be kept right without it.
 * Pure: the same inputs give the same schema (the check before a base commit and the sync agree).
 */
export function followBaseSchema(view: Pick<TableState, 'path' | 'md'>, basePath: string, before: TableMd, after: TableMd, version: number): FollowedSchema {
  const vmd = view.md.view!
  const visible = (md: TableMd) => new Map(md.columns.filter((c) => !c.hidden).map((c) => [c.id, c]))
  const was = visible(before)
  const now = visible(after)
  const afterById = new Map(after.columns.map((c) => [c.id, c]))
  // Base names as the view's where and iterator input know them → the base's names now.
  const baseNames = new Map<string, string>()
  for (const c of before.columns) {
    const n = afterById.get(c.id)
    if (n && n.name !== c.name) baseNames.set(c.name, n.name)
  }
  const gone = [...was.values()].filter((c) => !now.has(c.id))
  const come = [...now.values()].filter((c) => !was.has(c.id))
  if (baseNames.size === 0 && gone.length === 0 && come.length === 0) return { md: view.md, added: [], dropped: [] }

  let carried = [...vmd.baseColumns]
  let unstored = [...(vmd.baseUnstored ?? [])]
  const viewColumnOf = (baseId: number) => {
    const pair = carried.find(([, b]) => b === baseId) ?? unstored.find(([, b]) => b === baseId)
    return pair && view.md.columns.find((c) => c.id === pair[0])
  }

  // Drops first: they free names that added columns may take (a job replacing a column by one of the same name).
  const dropped: ColumnMd[] = []
  const whereRefs = vmd.where ? columnRefs(vmd.where) : new Set<string>()
  for (const c of gone) {
    const refuse = (how: string, extra: Record<string, unknown> = {}) =>
      invalid('HAS_DEPENDENTS', `column '${c.name}' of '${basePath}' cannot be dropped or replaced: view '${view.path}' ${how}`, { view: view.path, column: c.name, ...extra })
    if (whereRefs.has(c.name)) throw refuse(`filters on it (where ${printExpr(vmd.where!)}); drop the view first`)
    const vc = viewColumnOf(c.id)
    if (vmd.iterator && (vmd.iterator.input === c.name || (vc && vmd.iterator.inputColumn === vc.name))) throw refuse(`expands it (its ${vmd.iterator.name} iterator's input); drop the view first`)
    if (!vc) continue
    const deps = directDependents(view.md, vc.name).filter((d) => d.id !== vc.id)
    const indexNames = (view.md.indexes ?? []).filter((i) => i.columnId === vc.id || deps.some((d) => d.id === i.valueColumnId)).map((i) => i.name)
    const depColumns = deps.filter((d) => !(view.md.indexes ?? []).some((i) => i.valueColumnId === d.id)).map((d) => d.name)
    if (depColumns.length > 0 || indexNames.length > 0) {
      const what = [
        ...(depColumns.length ? [`computed column(s) ${depColumns.map((n) => `'${n}'`).join(', ')}`] : []),
        ...(indexNames.length ? [`embedding index(es) ${indexNames.map((n) => `'${n}'`).join(', ')}`] : []),
      ]
      throw refuse(`uses it in its ${what.join(' and ')}; drop those from the view first`, { dependents: [...depColumns, ...indexNames] })
    }
    dropped.push(vc)
  }
  carried = carried.filter(([vid]) => !dropped.some((d) => d.id === vid))
  unstored = unstored.filter(([vid]) => !dropped.some((d) => d.id === vid))
  let columns = view.md.columns.filter((c) => !dropped.some((d) => d.id === c.id))

  // Renames: a view column named after its base column (or base_<name>) takes the new name, or base_<new name>
  // where the view has a column of that name of its own.
  const renamedIds = new Map<number, string>()
  for (const [vid, bid] of [...carried, ...unstored]) {
    const old = before.columns.find((c) => c.id === bid)
    const vc = columns.find((c) => c.id === vid)
    const next = old && baseNames.get(old.name)
    if (vc && next && (vc.name === old.name || vc.name === `base_${old.name}`)) renamedIds.set(vid, next)
  }
  const taken = new Set(columns.filter((c) => !renamedIds.has(c.id)).map((c) => c.name))
  const freeName = (name: string, what: string) => {
    const pick = [name, `base_${name}`].find((n) => !taken.has(n))
    if (!pick) throw alreadyExists('COLUMN_ALREADY_EXISTS', `${what}: view '${view.path}' has columns '${name}' and 'base_${name}' of its own; rename one of them in the view first`, { view: view.path, column: name })
    taken.add(pick)
    return pick
  }
  const viewNames = new Map<string, string>()
  for (const [vid, name] of renamedIds) {
    const vc = columns.find((c) => c.id === vid)!
    const pick = freeName(name, `column '${name}' of '${basePath}' cannot be carried under its new name`)
    if (pick !== vc.name) viewNames.set(vc.name, pick)
  }
  columns = columns.map((c) => {
    const name = viewNames.get(c.name) ?? c.name
    const computed = c.computed && { ...c.computed, expr: renameColumnRefs(c.computed.expr, viewNames) }
    return { ...c, name, ...(computed ? { computed } : {}) }
  })

  // Additions: carried from now on, after the columns the view has.
  const added: ColumnMd[] = []
  let next = view.md.nextColumnId
  // An unstored base column is computed over the view's columns: its expression names them as the view does.
  const inView = new Map<string, string>()
  for (const [vid, bid] of carried) {
    const b = afterById.get(bid)
    const vc = columns.find((c) => c.id === vid)
    if (b && vc && b.name !== vc.name) inView.set(b.name, vc.name)
  }
  for (const c of come) {
    const id = next++
    const name = freeName(c.name, `'${basePath}' gets a column '${c.name}' that its view cannot carry`)
    const column: ColumnMd = c.computed?.stored === false
      ? { id, name, type: c.type, addedIn: version, computed: { ...c.computed, expr: renameColumnRefs(c.computed.expr, inView) } }
      : carriedColumn(c, id, name, version)
    // Shown before the view's hidden _base_rowid, as at creation.
    columns.splice(columns.findIndex((x) => x.name === BASE_ROWID), 0, column)
    if (column.computed) {
      unstored.push([id, c.id])
      continue
    }
    carried.push([id, c.id])
    added.push(column)
  }

  const where = vmd.where && renameColumnRefs(vmd.where, baseNames)
  const iterator = vmd.iterator && {
    ...vmd.iterator,
    input: baseNames.get(vmd.iterator.input) ?? vmd.iterator.input,
    ...(vmd.iterator.inputColumn ? { inputColumn: viewNames.get(vmd.iterator.inputColumn) ?? vmd.iterator.inputColumn } : {}),
  }
  const view2: ViewMd = { ...vmd, ...(where ? { where } : {}), ...(iterator ? { iterator } : {}), baseColumns: carried, ...(vmd.baseUnstored || unstored.length ? { baseUnstored: unstored } : {}) }
  return { md: { ...view.md, columns, nextColumnId: next, view: view2 }, added, dropped }
}

/**
 * Checked in the final transaction of a change of `table`'s columns, before it commits: every view over it (and
 * every view over those) can follow the new schema `after`. A change a view could not follow is refused here, naming
 * the view, instead of committing and failing the view's sync after it.
 */
export async function assertFollowable(tx: Queryable, table: TableState, after: TableMd): Promise<void> {
  for (const d of await dependentsOf(tx, table.id)) {
    if (!d.md.view) continue
    const synced = d.md.view.syncedBaseVersion
    const before = synced < 0 || synced >= table.version ? table.md : await mdAtVersion(tx, table.id, table.path, synced)
    const next = followBaseSchema(d, table.path, before, after, d.version + 1)
    if (next.md !== d.md) await assertFollowable(tx, d, next.md)
  }
}

/**
 * The refusal to drop (or replace without force) `path`, which has the views or snapshots `deps`. Its remedy is the
 * call's own option: dropTable takes force: true, a createTable/createView/createSnapshot replace takes
 * ifExists: 'replace_force' (and refuses a force option by name).
 */
export function hasDependentsError(path: string, deps: readonly TableState[], by: 'drop' | 'replace' = 'drop'): TesseraError {
  const fix = by === 'drop' ? 'pass force: true' : "pass ifExists: 'replace_force' to drop them with it"
  return invalid('HAS_DEPENDENTS', `'${path}' has dependents ${deps.map((d) => `'${d.path}'`).join(', ')}; drop them first or ${fix}`, { dependents: deps.map((d) => d.path) })
}

/**
 * Views and snapshots over a table (its dependents), newest first. A snapshot of a view carries the view's metadata,
 * view.baseId included: it depends on the view (snapshot.baseId), not on the view's base, whose revert it once
 * blocked as a "view" that had to be reverted first.
 */
export async function dependentsOf(db: Queryable, baseId: number): Promise<TableState[]> {
  const r = await db.query<TableState & { id: number }>(
    `select id, path, kind, version, md from tessera.tables where (kind = 'view' and (md->'view'->>'baseId')::bigint = $1) or (md->'snapshot'->>'baseId')::bigint = $1 order by id desc`,
    [baseId],
  )
  return r.rows.map((x) => ({ id: Number(x.id), path: x.path, kind: x.kind, version: x.version, md: x.md }))
}

/**
 * Checked before a revert pops version `state.version`, for the whole chain of views over it, since a view left
 * unable to follow after the base committed would stay broken: no snapshot may pin a version a revert pops, no view
 * may have changes of its own after following it (those would be lost silently), and each view must be able to follow:
 * - a view whose latest sync took in exactly the popped version pops that sync too (mirrorsByPop), and its own views
 *   are checked the same way against that pop (and its retention, as a revert of the view is);
 * - a view whose latest sync took in several base versions at once (its first sync, or a catch-up) goes back in a
 *   new version instead (syncView's undo), which can only replace rows: refused when the popped version changed
 *   columns, since the view would keep the ones the revert takes away (or lose ones its schema was made on).
 * `root` is the table the user reverts, named in the errors.
 */
export async function assertBaseRevertable(tx: Queryable, state: TableState, prev: TableMd, root: string = state.path): Promise<void> {
  const schemaChanges = columnsDiffer(state.md, prev)
  const via = state.path === root ? '' : ` (through '${state.path}', which follows the revert of '${root}')`
  for (const d of await dependentsOf(tx, state.id)) {
    if (d.md.snapshot && d.md.snapshot.version >= state.version) {
      throw invalid('HAS_DEPENDENTS', `version ${state.version} of '${state.path}' is pinned by snapshot '${d.path}'${via}; drop the snapshot before reverting past it`, { snapshot: d.path })
    }
    if (!d.md.view || d.md.view.syncedBaseVersion < state.version) continue
    const last = await latestVersionKind(tx, d.id)
    if (last !== 'sync') {
      throw invalid('HAS_DEPENDENTS', `view '${d.path}' changed after following version ${state.version} of '${state.path}'${via} (its latest version is '${last}'); revert the view first`, { view: d.path })
    }
    const dPrev = await mdAtVersion(tx, d.id, d.path, d.version - 1)
    if (dPrev.view!.syncedBaseVersion === state.version - 1) {
      await assertRevertRetained(tx, d, root)
      await assertBaseRevertable(tx, d, dPrev, root)
      continue
    }
    if (schemaChanges) {
      throw invalid('HAS_DEPENDENTS', `view '${d.path}' cannot follow this revert of '${root}': it took in versions up to ${state.version} of '${state.path}' in one sync (it was created or caught up after them), so it cannot undo version ${state.version} alone, and that version changed the columns of '${state.path}'${state.path === root ? '' : ` (which follows the revert of '${root}')`}; drop '${d.path}' first, or drop the column instead of reverting (views follow a drop)`, { view: d.path, table: root })
    }
  }
}

/**
 * How a view follows a revert of its base to `baseVersion`: by popping its latest sync when that sync took in exactly
 * the popped base version (the view's version before it reflects `baseVersion`), else by an undoing sync.
 */
export async function mirrorsByPop(db: Queryable, view: TableState, baseVersion: number): Promise<boolean> {
  if (view.version < 1) return false
  const prev = await mdAtVersion(db, view.id, view.path, view.version - 1)
  return prev.view!.syncedBaseVersion === baseVersion
}

/** Whether two schemas differ in their visible columns (ids, names, types). */
function columnsDiffer(a: TableMd, b: TableMd): boolean {
  const key = (md: TableMd) => JSON.stringify(md.columns.filter((c) => !c.hidden).map((c) => [c.id, c.name, c.type]))
  return key(a) !== key(b)
}
