import { invalid } from '../errors.ts'
import type { ColumnType } from '../types/index.ts'
import type { FnNode, LitNode } from './nodes/index.ts'
import { printExpr } from './nodes/index.ts'
import { registerOperators } from './operators.ts'

// Every function an expression can name (operators, built-ins, user UDFs) is a FunctionDef here. A definition may
// compile to SQL, evaluate in TypeScript, or both: the planner runs as much as it can in SQL and the rest in batches.

export interface SqlArg {
  readonly sql: string
  readonly type: ColumnType
}

export interface SqlEmitter {
  /** Adds a parameter and returns its placeholder, cast to the Postgres type of `type` when given. */
  param(value: unknown, type?: ColumnType): string
  /** A literal of the expression as a parameter; the plan cache refills it with the next query's value. */
  literal?(node: LitNode, type: ColumnType): string
}

export interface AggregateImpl<S = unknown> {
  init(): S
  step(state: S, args: readonly unknown[]): S
  final(state: S): unknown
}

export interface FunctionDef {
  readonly name: string
  readonly kind: 'scalar' | 'aggregate'
  readonly minArgs: number
  readonly maxArgs: number
  /** Checks argument types and returns the result type; throws a RequestError naming the expression otherwise. */
  returnType(argTypes: readonly ColumnType[], node: FnNode): ColumnType
  sql?(args: readonly SqlArg[], emit: SqlEmitter, node: FnNode): string
  /** Row-at-a-time evaluation. Unless nullSafe, a null argument short-circuits to null. */
  eval?(args: readonly unknown[], node: FnNode): unknown
  /**
   * Batch evaluation (UDFs that batch, call services, or run models). Receives one array per argument, each
   * `rowCount` long: a function without arguments learns the number of rows from it alone.
   */
  evalBatch?(argColumns: readonly (readonly unknown[])[], node: FnNode, rowCount: number): Promise<unknown[]>
  readonly nullSafe?: boolean
  /** Literal arguments take the type of the first non-literal argument (comparisons: date_col == '2024-01-01'). */
  readonly coerceLiterals?: boolean
  readonly aggregate?: AggregateImpl
  /** False for functions whose result changes between calls (uuid4, now, remote models): never cached or folded. */
  readonly deterministic?: boolean
}

export class FunctionRegistry {
  readonly #defs = new Map<string, FunctionDef>()
  /** The names the product defines (operators, src/functions/): no user definition may take them over. */
  readonly #builtIns = new Set<string>()
  #generation = 0

  /**
   * `replace`: a user definition (udf, uda, retrieval function) that may replace an earlier user definition of its
   * name, never a built-in: one named 'upper' would have replaced upper() for every query in the process.
   */
  register(def: FunctionDef, options: { replace?: boolean; builtIn?: boolean } = {}): FunctionDef {
    if (this.#defs.has(def.name) && !options.replace) {
      throw invalid('INVALID_ARGUMENT', `function '${def.name}' is already registered`)
    }
    if (!options.builtIn && this.#builtIns.has(def.name)) {
      throw invalid('INVALID_ARGUMENT', `'${def.name}' is the name of a built-in function; give yours another name`, { function: def.name })
    }
    if (options.builtIn) this.#builtIns.add(def.name)
    this.#defs.set(def.name, def)
    this.#generation++
    return def
  }

  /** Changes whenever a definition is added or replaced: cached plans compiled against older ones are not reused. */
  get generation(): number {
    return this.#generation
  }

  has(name: string): boolean {
    return this.#defs.has(name)
  }

  get(name: string, node?: FnNode): FunctionDef {
    const def = this.#defs.get(name)
    if (!def) {
      throw invalid('INVALID_EXPRESSION', `unknown function '${name}'${node ? ` in ${printExpr(node)}` : ''}`, { function: name })
    }
    return def
  }

  names(): string[] {
    return [...this.#defs.keys()].sort()
  }
}

/**
 * The process-wide registry. The core operators (comparison, logic, arithmetic, casts: operators.ts) are part of the
 * query language and are registered here, with the registry itself, so compiling `a > b` never depends on another
 * module having been imported; the other built-ins (src/functions/) and UDFs register into it as they load.
 */
export const functions = new FunctionRegistry()
registerOperators(functions)

// ---- helpers shared by function modules (defined in function-helpers.ts, which the operators use too) ----

export { anyNullable, expectKinds, t, typeError } from './function-helpers.ts'

export function scalar(def: Omit<FunctionDef, 'kind'> & { kind?: 'scalar' }): FunctionDef {
  return functions.register({ ...def, kind: 'scalar' }, { builtIn: true })
}

export function aggregate(def: Omit<FunctionDef, 'kind'> & { kind?: 'aggregate' }): FunctionDef {
  return functions.register({ ...def, kind: 'aggregate' }, { builtIn: true })
}
