import { invalid, TesseraError } from '../errors.ts'
import { ColumnScope, computedPlans } from './computed.ts'
import type { ExprNode, CellError } from '../query/index.ts'
import { colNode, fnNode, printExpr, valueColumn, typeOf } from '../query/index.ts'
import type { Queryable } from '../store/index.ts'
import { formatType, fromStore, parseType } from '../types/index.ts'
import type { ColumnMd, TableMd, ViewMd } from './metadata.ts'
import { computeTsColumns, insertRows } from './rows.ts'
import type { WriteCounts } from './rows.ts'
import { commitLocked } from './commit.ts'
import { endRowsOfEndedBaseRows, endRowVersions, readEnteringBaseRows, viewRowsOfEndedBaseRows } from './data-table/index.ts'
import type { CatalogContext } from './table.ts'
import type { TableState } from './state.ts'
import type { Row } from './validate-rows.ts'

// Views follow their base table. A view stores its own rows (the base columns it carries, iterator outputs, its own
// computed columns) in its own data table, with a hidden _base_rowid naming the base row each came from.
// After every base change, the delta between the base version the view reflects and the current one is applied:
// base row versions that ended leave the view, new current ones enter it (filtered, expanded by the iterator,
// computed). Each sync is one view version, so a base revert can be mirrored by reverting that view version.

export const BASE_ROWID = '_base_rowid'

/** An iterator: one input value → many rows. src/iterators/ provides them by name. */
export interface ViewIterator {
  readonly outputs: Readonly<Record<string, string>>
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
  }
  const columns: ColumnMd[] = []
  const baseColumns: [number, number][] = []
  for (const c of base.md.columns.filter((x) => !x.hidden)) {
    const id = columns.length
    // An unstored base column stays unstored here: the same definition over the carried columns.
    if (c.computed?.stored === false) {
      columns.push({ id, name: c.name, type: c.type, addedIn: 0, computed: c.computed })
      continue
    }
    columns.push({ id, name: c.name, type: formatType({ ...parseType(c.type), nullable: true }), addedIn: 0 })
    baseColumns.push([id, c.id])
  }
  if (spec.iterator) {
    const input = base.md.columns.find((c) => c.name === spec.iterator!.input)
    if (!input) throw invalid('COLUMN_NOT_FOUND', `iterator input column '${spec.iterator.input}' is not in '${base.path}'`)
    const it = await resolveIterator(spec.iterator.name)
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
    syncedBaseVersion: -1,
  }
  return { columns, primaryKey: [], nextColumnId: columns.length, mediaValidation: 'on_read', view }
}

/** The view column carrying the iterator's input (renamed base_<name> when an output took its name). */
function inputColumnName(columns: readonly ColumnMd[], baseColumns: readonly (readonly [number, number])[], base: TableState, input: string): string {
  const baseId = base.md.columns.find((c) => c.name === input)!.id
  const viewId = baseColumns.find(([, b]) => b === baseId)![0]
  return columns.find((c) => c.id === viewId)!.name
}

/** Reads the base rows that entered between two base versions (current at `to`), as view input rows. */
async function enteringRows(db: Queryable, base: TableState, view: TableState, from: number, to: number): Promise<Row[]> {
  const vmd = view.md.view!
  const r = await readEnteringBaseRows(db, base, vmd, from, to)
  return r.map((row) => {
    const out: Row = { [BASE_ROWID]: row._rid }
    for (const [vid, bid] of vmd.baseColumns) {
      const vc = view.md.columns.find((c) => c.id === vid)!
      const bc = base.md.columns.find((c) => c.id === bid)
      out[vc.name] = bc ? fromStore(parseType(bc.type), row[`v${vid}`]) : null
    }
    return out
  })
}

/**
 * Expands entering rows through the view's iterator (pos 0..n-1 per base row) and computes the view's TypeScript
 * columns, batch by batch (src/iterators/expand.ts), so computed values are made for a bounded number of rows at a time.
 */
async function expandAndCompute(rows: Row[], view: TableState, resolveIterator: IteratorResolver, counts: WriteCounts): Promise<{ rows: Row[]; ts: Map<number, { values: unknown[]; errors: (CellError | null)[] }> }> {
  const plans = computedPlans(view.md)
  const spec = view.md.view!.iterator
  if (!spec) return { rows, ts: await computeTsColumns(plans, rows, view.path, counts) }
  const it = await resolveIterator(spec.name)
  const { expandInBatches } = await import('../iterators/index.ts')
  const out: Row[] = []
  const ts = new Map<number, { values: unknown[]; errors: (CellError | null)[] }>()
  const opts = { input: spec.inputColumn ?? spec.input, args: spec.args, rowId: (r: Row) => r[BASE_ROWID], view: view.path, iterator: spec.name }
  for await (const batch of expandInBatches(it as never, rows, opts)) {
    for (const [id, r] of await computeTsColumns(plans, batch, view.path, counts)) {
      const acc = ts.get(id) ?? { values: [], errors: [] }
      for (let i = 0; i < r.values.length; i++) (acc.values.push(r.values[i]), acc.errors.push(r.errors[i] ?? null))
      ts.set(id, acc)
    }
    for (const r of batch) out.push(r)
  }
  return { rows: out, ts }
}

/**
 * Brings a view up to its base's current version, as one view version through the commit unit. Call with the view's
 * lock held; base row versions are read by version range, so a base write in progress stays unseen.
 * Returns the view's new state, or undefined when it was already in step.
 */
export async function syncView(ctx: CatalogContext, view: TableState, base: TableState, resolveIterator: IteratorResolver): Promise<TableState | undefined> {
  const from = view.md.view!.syncedBaseVersion
  const to = base.version
  if (from >= to) return undefined
  const staged = ctx.db.capabilities.stagedWrites === true
  const baseRowId = (md: TableMd) => valueColumn(md.columns.find((c) => c.name === BASE_ROWID)!.id)
  const { committed } = await commitLocked(ctx, view.id, {
    kind: 'sync',
    // Slow work (iterators, TypeScript-computed columns) happens before any write, in bounded batches. On a store
    // that stages writes, the view rows that leave are listed too and ended in steps after the entering ones.
    prepare: async (state, counts) => {
      const { rows: entering, ts } = await expandAndCompute(await enteringRows(ctx.db, base, state, from, to), state, resolveIterator, counts)
      const leaving = staged ? await viewRowsOfEndedBaseRows(ctx.db, state.id, baseRowId(state.md), base.id, from, to) : undefined
      return { entering, ts, leaving }
    },
    rows: {
      count: (p) => p.entering.length + (p.leaving?.length ?? 0),
      write: async (tx, state, version, p, counts, start, end) => {
        const n = p.entering.length
        if (start < n) await insertRows(tx, state, version, p.entering, p.ts, counts, undefined, undefined, start, Math.min(end, n))
        if (end > n) counts.deleted += await endRowVersions(tx, state.id, version, p.leaving!.slice(Math.max(0, start - n), end - n))
      },
    },
    apply: async (tx, locked, version, p, counts) => {
      // Base row versions that ended in (from, to] and existed at `from` leave the view.
      if (!p.leaving) counts.deleted += await endRowsOfEndedBaseRows(tx, locked.id, baseRowId(locked.md), base.id, from, to, version)
      return { ...locked.md, view: { ...locked.md.view!, syncedBaseVersion: to } }
    },
  })
  return committed
}


/** Views and snapshots over a table (its dependents), newest first. */
export async function dependentsOf(db: Queryable, baseId: number): Promise<TableState[]> {
  const r = await db.query<TableState & { id: number }>(
    `select id, path, kind, version, md from tessera.tables where (md->'view'->>'baseId')::bigint = $1 or (md->'snapshot'->>'baseId')::bigint = $1 order by id desc`,
    [baseId],
  )
  return r.rows.map((x) => ({ id: Number(x.id), path: x.path, kind: x.kind, version: x.version, md: x.md }))
}

/**
 * Checked before a revert pops version `state.version`: no snapshot may pin it, and no view may have changes of its
 * own after following it (those would be lost silently).
 */
export async function assertBaseRevertable(tx: Queryable, state: TableState): Promise<void> {
  for (const d of await dependentsOf(tx, state.id)) {
    if (d.md.snapshot && d.md.snapshot.version >= state.version) {
      throw invalid('HAS_DEPENDENTS', `version ${state.version} of '${state.path}' is pinned by snapshot '${d.path}'; drop the snapshot before reverting past it`, { snapshot: d.path })
    }
    if (d.md.view && d.md.view.syncedBaseVersion >= state.version) {
      const last = await tx.query<{ kind: string }>(`select kind from tessera.versions where table_id = $1 order by version desc limit 1`, [d.id])
      if (last.rows[0]?.kind !== 'sync') {
        throw invalid('HAS_DEPENDENTS', `view '${d.path}' changed after following version ${state.version} of '${state.path}' (its latest version is a ${last.rows[0]?.kind}); revert the view first`, { view: d.path })
      }
    }
  }
}
