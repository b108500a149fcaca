import { invalid } from '../errors.ts'
import { Expr, toNode, fnNode, functions, RowFailure, typeError } from '../query/index.ts'
import type { ExprLike, FnNode, FunctionDef } from '../query/index.ts'
import type { ColumnType } from '../types/index.ts'
import { formatType, isAssignable, parseType } from '../types/index.ts'
import { runChunks } from './calls.ts'
import type { CallPolicy } from './calls.ts'
import { RateLimiter, Semaphore } from './rate-limit.ts'
import { StoppedError, stopSignal } from './stop.ts'
import type { RetryOptions } from './retry.ts'

// User-defined functions written in TypeScript. `udf()` registers a FunctionDef in the process-wide registry under its
// name, so a computed column that uses it keeps working after reopen as long as the module defining it is imported.
// Defining a name again replaces the old definition (fix a bug, then recomputeColumns({ errorsOnly: true })).

export interface UdfOptions {
  /** Registry name; stored in computed-column expressions, so keep it stable. */
  readonly name: string
  /** Result type: 'string', 'float', 'json', 'array<float32>[384]'... */
  readonly returns: string
  /** Argument types, checked when an expression is built into a query or column; omit to accept anything. */
  readonly params?: readonly string[]
  /**
   * Row at a time: `(a, b) => result` (may be async). With `batchSize`: `(aValues, bValues) => results`, one result per
   * input row, in order.
   */
  readonly fn: (...args: any[]) => unknown
  /** Makes the UDF batched: fn gets arrays of at most this many rows. */
  readonly batchSize?: number
  /** Calls in flight at once (default 1 for batched and async work; rows of a plain UDF run in order). */
  readonly concurrency?: number
  /** Calls per second, shared by every use of this UDF in this process. */
  readonly rateLimit?: { readonly perSecond: number }
  /** Retries for transient failures (TransientError, HTTP 408/429/5xx, network errors), with exponential backoff. */
  readonly retries?: RetryOptions
  /** False when results change between calls (random, time, remote models); default true. */
  readonly deterministic?: boolean
  /** When true, fn also sees rows with null arguments; by default such rows yield null without a call. */
  readonly nullSafe?: boolean
}

/** A UDF: call it with expressions to build an expression (`embed(docs.c.text)`). */
export interface Udf {
  (...args: ExprLike[]): Expr
  readonly fnName: string
  readonly def: FunctionDef
}

function checkArgs(name: string, params: readonly ColumnType[] | undefined, types: readonly ColumnType[], node: FnNode): void {
  if (!params) return
  types.forEach((t, i) => {
    const p = params[i]!
    const ok = p.kind === 'json' || isAssignable({ ...t, nullable: false }, { ...p, nullable: false }) ||
      (p.kind === 'string' && ['image', 'video', 'audio', 'document'].includes(t.kind))
    if (!ok) throw typeError(node, `${name}() argument ${i + 1} must be ${formatType(p)}, got ${formatType(t)}`)
  })
}

function callable(name: string, def: FunctionDef): Udf {
  const f = (...args: ExprLike[]): Expr => new Expr(fnNode(name, args.map(toNode)))
  return Object.assign(f, { fnName: name, def }) as Udf
}

export function policyOf(options: { concurrency?: number; rateLimit?: { perSecond: number }; retries?: RetryOptions }): CallPolicy {
  return {
    ...(options.concurrency !== undefined ? { semaphore: new Semaphore(options.concurrency) } : {}),
    ...(options.rateLimit ? { limiter: new RateLimiter(options.rateLimit.perSecond) } : {}),
    ...(options.retries ? { retries: options.retries } : {}),
  }
}

/** Defines (or redefines) a scalar UDF and returns a function that builds expressions calling it. */
export function udf(options: UdfOptions): Udf {
  const { name, fn } = options
  if (!name || typeof name !== 'string') throw invalid('INVALID_ARGUMENT', 'udf() needs a name')
  if (typeof fn !== 'function') throw invalid('INVALID_ARGUMENT', `udf '${name}' needs fn, a function`)
  if (options.batchSize !== undefined && !(options.batchSize >= 1)) throw invalid('INVALID_ARGUMENT', `udf '${name}': batchSize must be >= 1`)
  const returns = parseType(options.returns)
  const params = options.params?.map((p) => parseType(p))
  const policy = policyOf(options)
  const batched = options.batchSize !== undefined
  // A plain UDF runs one row per call; with concurrency set, several rows are in flight at once.
  const size = batched ? Math.floor(options.batchSize!) : 1
  const def: FunctionDef = {
    name,
    kind: 'scalar',
    minArgs: params?.length ?? 0,
    maxArgs: params?.length ?? Infinity,
    returnType: (types, node) => {
      checkArgs(name, params, types, node)
      return { ...returns, nullable: returns.nullable || types.some((t) => t.nullable) || !!options.nullSafe }
    },
    evalBatch: async (columns, _node, n) => {
      const rows = Array.from({ length: n }, (_, i) => i)
      if (batched) return runChunks(rows, size, policy, async (idx) => fn(...columns.map((c) => idx.map((i) => c[i]))) as Promise<unknown[]>)
      // Row by row, a row that fails is that row's failure alone: the others keep their values (src/query/evaluator.ts).
      if (!policy.semaphore && !policy.limiter && !policy.retries) {
        // The common case: no throttling, so call in order without per-row promises' bookkeeping. Under a stop
        // signal (a cancelled job), the rows not called yet are not done (src/compute/stop.ts).
        const signal = stopSignal()
        const out = new Array<unknown>(n)
        for (let i = 0; i < n; i++) {
          if (signal?.aborted) {
            out.fill(new RowFailure(new StoppedError()), i)
            break
          }
          try {
            out[i] = await fn(...columns.map((c) => c[i]))
          } catch (e) {
            out[i] = new RowFailure(e)
          }
        }
        return out
      }
      return runChunks(rows, 1, policy, async ([i]) => [await fn(...columns.map((c) => c[i!]))], (e) => [new RowFailure(e)])
    },
    deterministic: options.deterministic ?? true,
    ...(options.nullSafe ? { nullSafe: true } : {}),
  }
  functions.register(def, { replace: true })
  return callable(name, def)
}

export interface UdaOptions<S> {
  readonly name: string
  readonly returns: string
  readonly params?: readonly string[]
  /** The empty state of a group. */
  readonly init: () => S
  /** Folds one row's argument values into the state (rows with a null argument are skipped unless nullSafe). */
  readonly step: (state: S, ...args: any[]) => S
  /** Turns the final state into the result (default: the state itself). */
  readonly final?: (state: S) => unknown
  readonly nullSafe?: boolean
}

/** Defines (or redefines) a user aggregate, usable in select() with or without groupBy(); it runs in TypeScript. */
export function uda<S>(options: UdaOptions<S>): Udf {
  const { name } = options
  if (!name || typeof name !== 'string') throw invalid('INVALID_ARGUMENT', 'uda() needs a name')
  const returns = parseType(options.returns)
  const params = options.params?.map((p) => parseType(p))
  const skipNulls = !options.nullSafe
  const def: FunctionDef = {
    name,
    kind: 'aggregate',
    minArgs: params?.length ?? 0,
    maxArgs: params?.length ?? Infinity,
    returnType: (types, node) => (checkArgs(name, params, types, node), { ...returns, nullable: true }),
    aggregate: {
      init: options.init,
      step: (state, args) => (skipNulls && args.some((a) => a === null || a === undefined) ? state : options.step(state as S, ...args)),
      final: (state) => (options.final ? options.final(state as S) : state),
    },
    nullSafe: true,
  }
  functions.register(def, { replace: true })
  return callable(name, def)
}
