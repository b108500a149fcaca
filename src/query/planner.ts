import type { ExprNode, LitNode } from './nodes/index.ts'
import { emitSelect } from './emit.ts'
import { logicalPlan } from './logical-plan.ts'
import type { LogicalPlan, PlannedOutput } from './logical-plan.ts'
import type { QuerySpec } from './spec.ts'
import { ParamList } from './sql.ts'
import type { LiteralSource } from './sql.ts'

// Turns a QuerySpec into one SQL statement plus the TypeScript work that SQL cannot do (UDFs, model calls), in two
// steps: the logical plan decides (logical-plan.ts), the emitter writes the statement (emit.ts). Everything SQL can
// express runs in Postgres; TS parts see only the SQL-computed leaves they need.

export type { PlannedOutput }

/** The logical plan's TypeScript work (outputs, leaves, TS filters, sorts, paging, grouping) plus its one statement. */
export interface Plan extends Omit<LogicalPlan, 'select'> {
  readonly sql: string
  readonly params: unknown[]
  /** Which literal of the query's shape each parameter came from (set when planned for the plan cache). */
  readonly paramSources?: readonly (LiteralSource | undefined)[]
  /** Ask the store to keep the statement prepared (a plan from the plan cache). */
  readonly prepare?: boolean
  /** SET LOCAL before the statement (QuerySpec.storeSettings). */
  readonly storeSettings?: Readonly<Record<string, string | number>>
}

/** `slots` numbers the literals of the query's shape (plan-cache.ts), so the plan records where each parameter came from. */
export function planQuery(spec: QuerySpec, slots?: ReadonlyMap<LitNode, number>): Plan {
  const logical = logicalPlan(spec)
  const params = new ParamList([], slots)
  const sql = emitSelect(logical.select, logical.scope, params)
  const { outputs, leaves, tsWhere, tsOrder, tsLimit, tsGroupBy, scope } = logical
  return {
    sql, params: params.values, ...(slots ? { paramSources: params.sources } : {}),
    outputs, leaves, tsWhere, tsOrder, ...(tsLimit ? { tsLimit } : {}), ...(tsGroupBy ? { tsGroupBy } : {}), scope,
    ...(spec.storeSettings ? { storeSettings: spec.storeSettings } : {}),
  }
}
