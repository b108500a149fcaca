import type { ExprNode, LitNode } from './nodes/index.ts'
import { someNode } from './nodes/index.ts'
import { coercedLiteralType, literalProblem } from './literals.ts'
import { litType } from './typecheck.ts'
import type { Plan } from './planner.ts'
import { planQuery } from './planner.ts'
import { queryShape } from './shape.ts'
import type { QuerySpec } from './spec.ts'
import type { LiteralSource } from './sql.ts'
import { toParam } from './sql.ts'

// Plans by query shape (src/query/shape.ts): a query seen before with other literals skips planning (type checks,
// SQL text, output types) and gets the planned statement with its parameters refilled, marked `prepare` so the store
// keeps the statement prepared and Postgres skips parsing and planning too. One cache per database (a query's
// tables, ids and schemas belong to its database), bounded, least recently used dropped first.
//
// Only plans that run wholly in SQL are kept: TypeScript filters, sorts, groups and outputs hold the literal nodes of
// the query that planned them, and those would be the wrong ones for the next query of the shape.

/**
 * Shapes longer than this carry data, not structure (a query vector in vector_distance's options, a long isin
 * list): each is its own shape, so keeping them would only push the hot ones out. Options a function declares bound
 * (shape.ts: the native index's candidates and query vector) are literals of the shape instead, refilled per call.
 */
const MAX_SHAPE_KEY = 2048

interface CachedPlan {
  readonly plan: Plan
  /** Per parameter: the literal slot that fills it (undefined: a value the shape fixes, reused as is). */
  readonly sources: readonly (LiteralSource | undefined)[]
}

export class PlanCache {
  readonly #max: number
  readonly #plans = new Map<string, CachedPlan>()
  #hits = 0
  #misses = 0

  constructor(max = 500) {
    this.#max = max
  }

  get stats(): { readonly size: number; readonly hits: number; readonly misses: number } {
    return { size: this.#plans.size, hits: this.#hits, misses: this.#misses }
  }

  plan(spec: QuerySpec): Plan {
    // Pages of a stream differ only in their offset (part of the SQL text) or where they start: each would be a new
    // shape, and a long stream would push every hot shape out. Paged reads are planned per call, as before.
    if (spec.offset || spec.keyset) return planQuery(spec)
    // Store settings (a top-k's hnsw.ef_search) are not part of the shape: such plans are made per call.
    if (spec.storeSettings) return planQuery(spec)
    // A group key with a literal is matched to equal outputs by value (emit.ts): two queries of one shape may differ
    // there, so such plans are made per call.
    if (spec.groupBy?.length && [...spec.groupBy, ...spec.orderBy.map((o) => o.expr)].some(hasLiteral)) return planQuery(spec)
    const shape = queryShape(spec)
    if (shape.key.length > MAX_SHAPE_KEY) return planQuery(spec)
    const cached = this.#plans.get(shape.key)
    if (cached) {
      this.#hits++
      this.#plans.delete(shape.key)
      this.#plans.set(shape.key, cached)
      // A literal the cached plan cannot take (not a value of the type it is read as) is planned afresh, so it is
      // refused as the first query of the shape would be: naming the expression it sits in.
      return refill(cached, shape.literals) ?? planQuery(spec)
    }
    this.#misses++
    const slots = slotsOf(shape.literals)
    const plan = planQuery(spec, slots)
    if (slots && runsInSql(plan)) {
      this.#plans.set(shape.key, { plan: { ...plan, prepare: true }, sources: plan.paramSources ?? [] })
      if (this.#plans.size > this.#max) this.#plans.delete(this.#plans.keys().next().value!)
      return { ...plan, prepare: true }
    }
    return plan
  }

  clear(): void {
    this.#plans.clear()
  }
}

const hasLiteral = (node: ExprNode): boolean => someNode(node, (n) => 'lit' in n)

/** Literal node → its slot; undefined when one node sits in two places (its params could not be told apart). */
function slotsOf(literals: readonly LitNode[]): Map<LitNode, number> | undefined {
  const slots = new Map<LitNode, number>()
  for (let i = 0; i < literals.length; i++) {
    if (slots.has(literals[i]!)) return undefined
    slots.set(literals[i]!, i)
  }
  return slots
}

const runsInSql = (p: Plan): boolean =>
  p.tsWhere.length === 0 && p.tsOrder.length === 0 && p.tsGroupBy === undefined && p.tsLimit === undefined && p.leaves.size === 0 && p.outputs.every((o) => o.sqlKey !== undefined)

/**
 * The cached plan with the parameters of `literals`; undefined when one of them is not a value of the type its
 * parameter takes (a typed literal's own, or the column type a compared string is read as): planning the query
 * again says which and where.
 */
function refill(cached: CachedPlan, literals: readonly LitNode[]): Plan | undefined {
  const params = cached.plan.params.slice()
  const { sources } = cached
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]
    if (s === undefined) continue
    const node = literals[s.slot]!
    // Typed literals and those read as another type (a string compared with a timestamp) are checked; others (their
    // own kind, or bound options a function passes as text, such as a native index's candidate keys) need none.
    if (s.type && (node.type !== undefined || coercedLiteralType(litType(node), s.type) !== undefined) && literalProblem(node.lit, s.type) !== undefined) return undefined
    params[i] = toParam(node.lit, s.type)
  }
  return { ...cached.plan, params }
}

/** One cache per store connection, i.e. per open database: plans never cross from one database to another. */
const caches = new WeakMap<object, PlanCache>()

export function planCacheFor(db: object): PlanCache {
  let cache = caches.get(db)
  if (!cache) caches.set(db, (cache = new PlanCache()))
  return cache
}
