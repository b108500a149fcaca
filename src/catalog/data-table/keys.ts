import { invalid } from '../../errors.ts'
import { ColumnScope, dependentPlans } from '../computed.ts'
import { compileExpr, dataTable, errorMsgColumn, errorTypeColumn, MAX_VERSION, ParamList, quoteIdent, valueColumn } from '../../query/index.ts'
import type { Queryable } from '../../store/index.ts'
import { parseType, pgType, toStoreJson } from '../../types/index.ts'
import { hasErrorColumns, isStored } from '../metadata.ts'
import type { ColumnMd } from '../metadata.ts'
import type { TableState } from '../state.ts'
import type { Row } from '../validate-rows.ts'
import { INSERT_BATCH, noteUpdatedCols, readColumnsSql, sqlComputeError, UPDATE_FIX } from './rows.ts'
import type { WriteCounts } from './rows.ts'

// Statements by primary key (Pixeltable's batch_update): rows are found through the key index (key columns, _v_max),
// whose prefix serves lookups of a key at any version.

export function pkColumns(state: TableState) {
  if (state.md.primaryKey.length === 0) {
    throw invalid('INVALID_ARGUMENT', `'${state.path}' has no primary key; updates by key need one (createTable(..., { primaryKey: [...] }))`)
  }
  return state.md.primaryKey.map((id) => state.md.columns.find((c) => c.id === id)!)
}

/** The columns an update row sets: present in it, stored, not computed, not part of the key. */
export function setColumns(state: TableState, row: Row): ColumnMd[] {
  const pk = new Set(state.md.primaryKey)
  return state.md.columns.filter((c) => !c.computed && !pk.has(c.id) && Object.hasOwn(row, c.name))
}

/** Update rows grouped by the columns they name (in order of first appearance): one statement per group. */
export function groupBySetColumns(rows: readonly Row[]): Row[][] {
  const groups = new Map<string, Row[]>()
  for (const r of rows) {
    const key = Object.keys(r).sort().join(',')
    const group = groups.get(key)
    if (group) group.push(r)
    else groups.set(key, [r])
  }
  return [...groups.values()]
}

/**
 * The current rows with the keys of `rows`: _rowid, the key columns and `columns` by name. Keys go as one JSON
 * document per INSERT_BATCH rows, joined on the key index.
 */
export async function readCurrentByKey(db: Queryable, state: TableState, rows: readonly Row[], columns: readonly ColumnMd[]): Promise<Row[]> {
  const pk = pkColumns(state)
  const read = [...pk, ...columns.filter((c) => !pk.includes(c))]
  const rec = pk.map((c) => `${valueColumn(c.id)} ${pgType(parseType(c.type))}`).join(', ')
  const on = pk.map((c) => `t.${valueColumn(c.id)} = x.${valueColumn(c.id)}`).join(' and ')
  const sql = `select t._rowid, ${readColumnsSql('t', read).join(', ')} from ${dataTable(state.id)} as t join jsonb_to_recordset($1::jsonb) as x(${rec}) on ${on} where t._v_max = ${MAX_VERSION}`
  const out: Row[] = []
  for (let start = 0; start < rows.length; start += INSERT_BATCH) {
    const docs = rows.slice(start, start + INSERT_BATCH).map((r) => Object.fromEntries(pk.map((c) => [valueColumn(c.id), toStoreJson(parseType(c.type), r[c.name])])))
    const res = await db.query<Row>(sql, [JSON.stringify(docs)])
    for (const r of res.rows) out.push(r)
  }
  return out
}

/**
 * Updates existing rows by key, recomputing SQL-mode dependents in the statement; TypeScript-mode dependents are left
 * null here and written by the caller from values computed before (precomputeByKey in table.ts).
 */
export async function updateByKey(tx: Queryable, state: TableState, version: number, rows: readonly Row[], cascade: boolean, counts: WriteCounts): Promise<void> {
  if (rows.length === 0) return
  const md = state.md
  const pk = pkColumns(state)
  // Rows that set different column sets are written in separate statements.
  for (const group of groupBySetColumns(rows)) {
    const setCols = setColumns(state, group[0]!)
    const changed = new Set(setCols.map((c) => c.name))
    const recompute = cascade ? dependentPlans(md, changed) : []
    const params = new ParamList()
    const docParam = params.param(null)
    const versionParam = params.param(version)
    const recordCols = [...pk, ...setCols].map((c) => `${valueColumn(c.id)} ${pgType(parseType(c.type))}`)
    const on = (a: string, b: string) => pk.map((c) => `${a}.${valueColumn(c.id)} = ${b}.${valueColumn(c.id)}`).join(' and ')
    const newScope = new ColumnScope(md, (c) => (changed.has(c.name) ? `x.${valueColumn(c.id)}` : `old.${valueColumn(c.id)}`))
    const target: string[] = ['_rowid', '_v_min']
    const select: string[] = ['old._rowid', `${versionParam}::integer`]
    for (const c of md.columns.filter(isStored)) {
      const name = valueColumn(c.id)
      const p = recompute.find((x) => x.column.id === c.id)
      target.push(name)
      if (changed.has(c.name)) select.push(`x.${name}`)
      else if (p?.mode === 'sql') select.push(compileExpr(p.expr, newScope, params))
      else if (p?.mode === 'ts') select.push('null')
      else select.push(`old.${name}`)
      if (hasErrorColumns(c)) {
        target.push(errorTypeColumn(c.id), errorMsgColumn(c.id))
        select.push(...(p || changed.has(c.name) ? ['null', 'null'] : [`old.${errorTypeColumn(c.id)}`, `old.${errorMsgColumn(c.id)}`]))
      }
    }
    const table = dataTable(state.id)
    const sql = `with x as (select * from jsonb_to_recordset(${docParam}::jsonb) as r(${recordCols.join(', ')})), ` +
      `old as (update ${table} as t0 set _v_max = ${versionParam}::integer from x where t0._v_max = ${MAX_VERSION} and ${on('t0', 'x')} returning t0.*) ` +
      `insert into ${table} (${target.join(', ')}) select ${select.join(', ')} from old join x on ${on('old', 'x')}`
    for (let start = 0; start < group.length; start += INSERT_BATCH) {
      const docs = group.slice(start, start + INSERT_BATCH).map((r) =>
        Object.fromEntries([...pk, ...setCols].map((c) => [valueColumn(c.id), toStoreJson(parseType(c.type), r[c.name])])))
      params.values[0] = JSON.stringify(docs)
      // A recomputed column failing on the new values is COMPUTATION_FAILED naming it and its expression, as update
      // reports it (it was the store's raw error: INVALID_ARGUMENT 'bad value'). Rows are partial here (key and set
      // columns), so the failed row is not looked for: the expression's inputs are not all at hand.
      const res = await tx.query(sql, params.values).catch(async (e: unknown) => Promise.reject(await sqlComputeError(e, state, recompute.filter((p) => p.mode === 'sql'), undefined, UPDATE_FIX)))
      if (res.affectedRows > 0) noteUpdatedCols(counts, [...setCols, ...recompute.map((p) => p.column)])
      counts.updated += res.affectedRows
      counts.computed += res.affectedRows * recompute.filter((p) => p.mode === 'sql').length
    }
  }
}
