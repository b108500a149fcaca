import type { Queryable } from '../store/index.ts'
import { formatType, fromStore } from '../types/index.ts'
import { evalBatch, type Row } from './evaluator.ts'
import { KEYSET_ROWID } from './emit.ts'
import { checkPlanLiterals, clearMediaLeaves } from './media-reads.ts'
import type { Plan } from './planner.ts'
import type { ResultColumn } from './results.ts'
import { groupInTs } from './ts-group.ts'
import { sortByKeys, tsPage } from './ts-order.ts'

// Runs a plan: the SQL statement, then TypeScript filtering/sorting/paging, then TS-only outputs for kept rows only
// (so a UDF never runs on rows a filter or limit throws away).

export interface ExecutedRows {
  readonly columns: ResultColumn[]
  readonly rows: Record<string, unknown>[]
  /** A keyset page's last row's _rowid (QuerySpec.keyset), where the next page starts after; absent: no rows. */
  readonly lastRowid?: string
}

export async function executePlan(db: Queryable, plan: Plan): Promise<ExecutedRows> {
  await checkPlanLiterals(plan)
  const result = plan.storeSettings ? await withSettings(db, plan.storeSettings, (q) => q.query<Row>(plan.sql, plan.params)) : await db.query<Row>(plan.sql, plan.params, plan.prepare ? { prepare: true } : undefined)
  let rows = result.rows
  clearMediaLeaves(plan, rows)

  if (plan.tsWhere.length > 0) {
    for (const cond of plan.tsWhere) {
      const keep = await evalBatch(cond, rows, plan.leaves)
      rows = rows.filter((_, i) => keep[i] === true)
    }
  }
  if (plan.tsGroupBy) return groupInTs(plan, rows)
  if (plan.tsOrder.length > 0) rows = sortByKeys(rows, await Promise.all(plan.tsOrder.map((o) => evalBatch(o.node, rows, plan.leaves))), plan)
  rows = tsPage(rows, plan)

  const tsValues = await Promise.all(plan.outputs.map((o) => (o.sqlKey === undefined ? evalBatch(o.node, rows, plan.leaves) : undefined)))
  const out = new Array<Record<string, unknown>>(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    const o: Record<string, unknown> = {}
    for (let k = 0; k < plan.outputs.length; k++) {
      const p = plan.outputs[k]!
      o[p.name] = p.sqlKey !== undefined ? fromStore(p.type, r[p.sqlKey]) : (tsValues[k]![i] ?? null)
    }
    out[i] = o
  }
  const last = rows.at(-1)?.[KEYSET_ROWID]
  return { columns: plan.outputs.map((p) => ({ name: p.name, type: formatType(p.type) })), rows: out, ...(last !== undefined && last !== null ? { lastRowid: String(last) } : {}) }
}

/**
 * Runs fn with settings local to one transaction (its own, or the caller's when db is one already), so a setting
 * never outlives the statement on a pooled connection.
 */
export async function withSettings<T>(db: Queryable, settings: Readonly<Record<string, string | number>>, fn: (q: Queryable) => Promise<T>): Promise<T> {
  const sql = Object.entries(settings).map(([name, value]) => {
    if (!/^([a-z_]+\.[a-z_]+|statement_timeout)$/.test(name) || !/^[A-Za-z0-9_.]+$/.test(String(value))) throw new Error(`bad store setting ${name} = ${String(value)}`)
    return `set local ${name} = '${String(value)}'`
  }).join('; ')
  const run = async (q: Queryable): Promise<T> => {
    await q.exec(sql)
    return fn(q)
  }
  const driver = db as Queryable & { transaction?: <R>(f: (tx: Queryable) => Promise<R>) => Promise<R> }
  return driver.transaction ? driver.transaction(run) : run(db)
}
