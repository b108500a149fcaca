import { translateExprError } from '../../query/index.ts'
import type { ExprNode } from '../../query/index.ts'

/**
 * Runs a statement that evaluates user expressions (`exprs`: a filter, an update's values, a view's where) over rows of
 * `table`: a value they fail on (a cast of a string that is no number) fails it as INVALID_EXPRESSION naming the
 * expression, as a query does (src/query/sql-errors.ts), instead of the store's raw error.
 */
export function withUserExprs<T>(table: string, exprs: readonly (ExprNode | undefined)[], run: () => Promise<T>): Promise<T> {
  return run().catch((e: unknown) => Promise.reject(translateExprError(e, exprs, table)))
}
