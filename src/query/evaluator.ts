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

/**
 * A row's failure within a batch: a function that calls row by row (a plain UDF, a provider, a built-in's eval)
 * returns it for the row that failed instead of failing the batch, so the other rows keep their values and are not
 * called again (a sampled LLM would answer them differently the second time). It passes through the functions that
 * read it, uncalled for that row; evalBatch throws the first one, evalCells stores each as its row's error.
 */
export class RowFailure {
  constructor(readonly error: unknown, public expression?: string) {}
}

/** The error a failure is reported as: the function's own TesseraError, or COMPUTATION_FAILED naming the expression. */
function failureError(f: RowFailure): TesseraError {
  if (f.error instanceof TesseraError) return f.error
  const message = (f.error as Error)?.message ?? f.error
  return new TesseraError('COMPUTATION_FAILED', `${f.expression ?? 'an expression'} failed: ${message}`, f.expression ? { expression: f.expression } : {}, { cause: f.error })
}

/**
 * Evaluates `node` over rows; a value may be a RowFailure for a row whose evaluation failed on its own. With `perRow`
 * (evalCells), a function whose batch call fails is called again row by row with the argument values already
 * computed, so only the rows that really fail carry an error, and the functions inside its arguments (a model, a
 * remote UDF) are not called again: each is called once per row (a sampled LLM would answer differently, and is paid
 * twice). Without it, the batch's failure is thrown.
 */
async function evalValues(node: ExprNode, rows: readonly Row[], leaves: Leaves, perRow: boolean): Promise<unknown[]> {
  const leaf = leafKey(leaves, node)
  if (leaf !== undefined) return rows.map((r) => r[leaf] ?? null)
  if (isLit(node)) return rows.map(() => node.lit)
  if (isCol(node)) throw new Error(`internal: column ${printExpr(node)} was not fetched`)
  const def = functions.get(node.fn, node)
  const argColumns = await Promise.all(node.args.map((a) => evalValues(a, rows, leaves, perRow)))
  const out: unknown[] = new Array(rows.length).fill(null)
  // Rows with a failed argument carry its failure; rows with a null argument yield null without calling the
  // function (unless it handles nulls itself).
  const live: number[] = []
  for (let i = 0; i < rows.length; i++) {
    const failed = argColumns.find((c) => c[i] instanceof RowFailure)
    if (failed) out[i] = failed[i]
    else if (def.nullSafe || !argColumns.some((c) => isNullish(c[i]))) live.push(i)
  }
  if (live.length === 0) return out
  const expression = () => printExpr(node)
  const place = (rowsAt: readonly number[], results: readonly unknown[]) => rowsAt.forEach((i, k) => {
    const r = results[k]
    if (r instanceof RowFailure) r.expression ??= expression()
    out[i] = r ?? null
  })
  try {
    if (def.evalBatch) {
      place(live, await def.evalBatch(argColumns.map((c) => live.map((i) => c[i])), node, live.length))
    } else if (def.eval) {
      for (const i of live) {
        try {
          out[i] = def.eval(argColumns.map((c) => c[i]), node) ?? null
        } catch (e) {
          out[i] = new RowFailure(e, expression())
        }
      }
    } else {
      throw invalid('INVALID_EXPRESSION', `${node.fn}() can only run inside the database (${printExpr(node)})`)
    }
  } catch (e) {
    if (!perRow) throw failureError(new RowFailure(e, expression()))
    if (!def.evalBatch || live.length === 1) {
      for (const i of live) out[i] = new RowFailure(e, expression())
      return out
    }
    // The batch failed as a whole (a batched UDF throws for one bad input): which rows fail is only known row by row.
    for (const i of live) {
      try {
        place([i], await def.evalBatch(argColumns.map((c) => [c[i]]), node, 1))
      } catch (rowError) {
        out[i] = new RowFailure(rowError, expression())
      }
    }
  }
  return out
}

/** Evaluates `node` over rows; any row's failure fails the batch. */
export async function evalBatch(node: ExprNode, rows: readonly Row[], leaves: Leaves): Promise<unknown[]> {
  const out = await evalValues(node, rows, leaves, false)
  const failed = out.find((x) => x instanceof RowFailure)
  if (failed) throw failureError(failed as RowFailure)
  return out
}

export interface CellError {
  readonly errortype: string
  readonly errormsg: string
}

/** A cell's error: the function's own error (its name and message), not the wrapper naming the expression. */
function cellError(e: unknown): CellError {
  const cause = e instanceof TesseraError && e.cause instanceof Error ? e.cause : (e as Error)
  return { errortype: cause?.name ?? 'Error', errormsg: String(cause?.message ?? e) }
}

/**
 * Like evalBatch, but a failure becomes a per-cell error instead of failing the batch (on_error 'ignore'): a function
 * whose batch fails is retried row by row over its already computed arguments (evalValues), so only the rows that
 * really fail carry an error and no inner call is made twice.
 */
export async function evalCells(node: ExprNode, rows: readonly Row[], leaves: Leaves): Promise<{ values: unknown[]; errors: (CellError | null)[] }> {
  let out: unknown[]
  try {
    out = await evalValues(node, rows, leaves, true)
  } catch (e) {
    // Only what no row could evaluate gets here (an unknown function, a column not fetched): every row's error.
    const error = cellError(e)
    return { values: rows.map(() => null), errors: rows.map(() => error) }
  }
  const errors = out.map((x) => (x instanceof RowFailure ? cellError(x.error) : null))
  return { values: out.map((x) => (x instanceof RowFailure ? null : x)), errors }
}
