import { call, scalar, t, typeError } from '../query/index.ts'
import type { Expr, ExprLike, FnNode, SqlArg } from '../query/index.ts'
import type { ColumnType } from '../types/index.ts'
import { commonType, formatType, isNumeric, pgType } from '../types/index.ts'

// Math functions. SQL and TypeScript agree on edge cases: rounding is half away from zero (Postgres numeric), and
// domain errors (sqrt(-1), log(0), 0 ** -1) give null in both instead of an error in one and NaN in the other.

function numeric(node: FnNode, types: readonly ColumnType[], i = 0): ColumnType {
  const a = types[i]!
  if (!isNumeric(a)) throw typeError(node, `${node.fn}() needs a number, got ${formatType(a)}`)
  return a
}

const F8 = (sql: string): string => `(${sql})::double precision`
const finiteOrNull = (x: number): number | null => (Number.isNaN(x) ? null : x)

/** Same type as the argument (int stays int). */
function sameType(name: string, sql: (a: string, type: ColumnType) => string, evalFn: (x: number) => number) {
  scalar({
    name, minArgs: 1, maxArgs: 1,
    returnType: (types, node) => numeric(node, types),
    sql: ([a]) => sql(a!.sql, a!.type),
    eval: ([a]) => evalFn(a as number),
  })
}
sameType('abs', (a) => `abs(${a})`, Math.abs)
sameType('floor', (a, ty) => (ty.kind === 'int' ? a : `floor(${a})`), Math.floor)
sameType('ceil', (a, ty) => (ty.kind === 'int' ? a : `ceil(${a})`), Math.ceil)

/** Float result; `guard` is the SQL condition under which the result is null (outside the domain). */
function floatFn(name: string, sql: (a: string) => string, guard: ((a: string) => string) | undefined, evalFn: (x: number) => number | null) {
  scalar({
    name, minArgs: 1, maxArgs: 1,
    returnType: (types, node) => t('float', numeric(node, types).nullable || guard !== undefined),
    sql: ([a]) => (guard ? `(case when ${guard(a!.sql)} then null else ${sql(F8(a!.sql))} end)` : sql(F8(a!.sql))),
    eval: ([a]) => evalFn(a as number),
  })
}
floatFn('sqrt', (a) => `sqrt(${a})`, (a) => `${a} < 0`, (x) => (x < 0 ? null : Math.sqrt(x)))
floatFn('exp', (a) => `exp(${a})`, (a) => `${a} > 709`, (x) => (x > 709 ? null : Math.exp(x)))
floatFn('log', (a) => `ln(${a})`, (a) => `${a} <= 0`, (x) => (x <= 0 ? null : Math.log(x)))
floatFn('log10', (a) => `log(${a})`, (a) => `${a} <= 0`, (x) => (x <= 0 ? null : Math.log10(x)))
floatFn('sin', (a) => `sin(${a})`, undefined, Math.sin)
floatFn('cos', (a) => `cos(${a})`, undefined, Math.cos)
floatFn('tan', (a) => `tan(${a})`, undefined, Math.tan)

scalar({
  name: 'pow', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => (numeric(node, types, 0), numeric(node, types, 1), t('float', true)),
  sql: ([a, b]) => {
    const x = F8(a!.sql)
    const y = F8(b!.sql)
    return `(case when (${x} < 0 and ${y} <> trunc(${y})) or (${x} = 0 and ${y} < 0) then null else power(${x}, ${y}) end)`
  },
  eval: ([a, b]) => ((a as number) === 0 && (b as number) < 0 ? null : finiteOrNull((a as number) ** (b as number))),
})

/** Half away from zero at `digits` decimals, on the value's 15 significant digits (as Postgres' float → numeric). */
export function roundHalfAway(x: number, digits = 0): number {
  if (!Number.isFinite(x)) return x
  const abs = String(Number(Math.abs(x).toPrecision(15)))
  if (abs.includes('e')) return Math.sign(x) * Math.round(Math.abs(x) * 10 ** digits) / 10 ** digits
  const shifted = Math.round(Number(`${abs}e${digits}`))
  return Math.sign(x) * Number(`${shifted}e${-digits}`) || 0
}

function digitsOf(node: FnNode): number {
  const d = node.opts?.digits ?? 0
  if (!Number.isInteger(d) || Math.abs(d as number) > 15) throw typeError(node, `round() digits must be an integer in -15..15, got ${JSON.stringify(d)}`)
  return d as number
}
scalar({
  name: 'round', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (digitsOf(node), numeric(node, types)),
  sql: ([a], emit, node) => {
    const d = digitsOf(node)
    if (a!.type.kind === 'int') return d >= 0 ? a!.sql : `round((${a!.sql})::numeric, ${d})::bigint`
    // numeric has no infinities before PG 14 and NaN compares oddly: keep non-finite values as they are.
    return `(case when (${a!.sql}) in ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) then ${a!.sql} else round((${a!.sql})::numeric, ${emit.param(d, t('int'))}::int)::double precision end)`
  },
  eval: ([a], node) => roundHalfAway(a as number, digitsOf(node)),
})

// clip(x, lo, hi): a null bound is no bound (clip(x, 0, null) is max(x, 0)).
scalar({
  name: 'clip', minArgs: 3, maxArgs: 3, nullSafe: true, coerceLiterals: true,
  returnType: (types, node) => {
    const x = numeric(node, types)
    let r: ColumnType | undefined = x
    for (const b of types.slice(1)) {
      if (b.kind === 'json') continue // a null literal
      if (!isNumeric(b)) throw typeError(node, `clip() bounds must be numbers, got ${formatType(b)}`)
      r = commonType(r!, { ...b, nullable: false })
    }
    return { ...r!, nullable: x.nullable }
  },
  // Postgres' greatest/least skip nulls, which is exactly "no bound"; a null literal still needs a type.
  sql: ([x, lo, hi]) => {
    const bound = (b: SqlArg) => (b.type.kind === 'json' ? `(${b.sql})::${pgType({ ...x!.type, nullable: true })}` : b.sql)
    return `least(greatest(${x!.sql}, ${bound(lo!)}), ${bound(hi!)})`
  },
  eval: ([x, lo, hi]) => {
    if (x === null || x === undefined) return null
    let v = x as number
    if (typeof lo === 'number' && v < lo) v = lo
    if (typeof hi === 'number' && v > hi) v = hi
    return v
  },
})

/** Math functions as expression builders: `math.round(docs.c.price, 2)`. */
export const math = {
  abs: (x: ExprLike): Expr => call('abs', [x]),
  round: (x: ExprLike, digits = 0): Expr => call('round', [x], digits === 0 ? undefined : { digits }),
  floor: (x: ExprLike): Expr => call('floor', [x]),
  ceil: (x: ExprLike): Expr => call('ceil', [x]),
  sqrt: (x: ExprLike): Expr => call('sqrt', [x]),
  pow: (x: ExprLike, y: ExprLike): Expr => call('pow', [x, y]),
  exp: (x: ExprLike): Expr => call('exp', [x]),
  log: (x: ExprLike): Expr => call('log', [x]),
  log10: (x: ExprLike): Expr => call('log10', [x]),
  sin: (x: ExprLike): Expr => call('sin', [x]),
  cos: (x: ExprLike): Expr => call('cos', [x]),
  tan: (x: ExprLike): Expr => call('tan', [x]),
  clip: (x: ExprLike, lo: ExprLike, hi: ExprLike): Expr => call('clip', [x, lo, hi]),
  clamp: (x: ExprLike, lo: ExprLike, hi: ExprLike): Expr => call('clip', [x, lo, hi]),
}
