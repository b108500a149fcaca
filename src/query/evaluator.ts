import { TesseraError, invalid } from '../errors.ts'
import type { ExprNode } from './nodes/index.ts'
import { isCol, isLit, printExpr } from './nodes/index.ts'
import { functions } from './registry.ts'

// Evaluates expressions in TypeScript over a batch of rows. SQL-computed subexpressions ("leaves") are read from the
// rows; functions evaluate per row, or per batch for UDFs that batch (models, remote services).

export type Row = Record<string, unknown>

const isNullish = (x: unknown): boolean => x === null || x === undefined

/** Where evaluation finds values: SQL-computed leaves by node identity, or (computed columns) rows keyed by name. */
export type Leaves = ReadonlyMap<ExprNode, string> | ((node: ExprNode) => string | undefined)

const leafKey = (leaves: Leaves, node: ExprNode): string | undefined =>
  typeof leaves === 'function' ? leaves(node) : leaves.get(node)

export async function evalBatch(node: ExprNode, rows: readonly Row[], leaves: Leaves): Promise<unknown[]> {
  const leaf = leafKey(leaves, node)
  if (leaf !== undefined) return rows.map((r) => r[leaf] ?? null)
  if (isLit(node)) return rows.map(() => node.lit)
  if (isCol(node)) throw new Error(`internal: column ${printExpr(node)} was not fetched`)
  const def = functions.get(node.fn, node)
  const argColumns = await Promise.all(node.args.map((a) => evalBatch(a, rows, leaves)))
  // Rows with a null argument yield null without calling the function (unless it handles nulls itself).
  const live = def.nullSafe ? rows.map((_, i) => i) : rows.map((_, i) => i).filter((i) => !argColumns.some((c) => isNullish(c[i])))
  const out: unknown[] = new Array(rows.length).fill(null)
  if (live.length === 0) return out
  try {
    if (def.evalBatch) {
      const results = await def.evalBatch(argColumns.map((c) => live.map((i) => c[i])), node)
      live.forEach((i, k) => (out[i] = results[k] ?? null))
    } else if (def.eval) {
      for (const i of live) out[i] = def.eval(argColumns.map((c) => c[i]), node) ?? null
    } else {
      throw invalid('INVALID_EXPRESSION', `${node.fn}() can only run inside the database (${printExpr(node)})`)
    }
  } catch (e) {
    if (e instanceof TesseraError) throw e
    throw new TesseraError('COMPUTATION_FAILED', `${printExpr(node)} failed: ${(e as Error).message ?? e}`, { expression: printExpr(node) }, { cause: e })
  }
  return out
}

export interface CellError {
  readonly errortype: string
  readonly errormsg: string
}

/**
 * Like evalBatch, but a failure becomes a per-cell error instead of failing the batch: when the batch fails, rows are
 * retried one by one so only the rows that really fail carry an error (on_error 'ignore').
 */
export async function evalCells(node: ExprNode, rows: readonly Row[], leaves: Leaves): Promise<{ values: unknown[]; errors: (CellError | null)[] }> {
  try {
    return { values: await evalBatch(node, rows, leaves), errors: rows.map(() => null) }
  } catch {
    const values: unknown[] = []
    const errors: (CellError | null)[] = []
    for (const row of rows) {
      try {
        values.push((await evalBatch(node, [row], leaves))[0] ?? null)
        errors.push(null)
      } catch (e) {
        const cause = e instanceof TesseraError && e.cause instanceof Error ? e.cause : (e as Error)
        values.push(null)
        errors.push({ errortype: cause?.name ?? 'Error', errormsg: String(cause?.message ?? e) })
      }
    }
    return { values, errors }
  }
}
