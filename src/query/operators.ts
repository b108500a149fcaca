import type { ColumnType } from '../types/index.ts'
import { commonType, formatType, isNumeric, parseType, pgType } from '../types/index.ts'
import type { FnNode } from './nodes/index.ts'
import { briefJson } from './nodes/index.ts'
import { anyNullable, t, typeError } from './function-helpers.ts'
import type { FunctionDef, FunctionRegistry, SqlArg } from './registry.ts'
import { compareValues, valuesEqual } from './compare.ts'

// The core operators of the query language: comparison, boolean logic, arithmetic, membership, null tests, casts,
// conditionals. registry.ts registers them with the process-wide registry (registerOperators), so the compiler
// never depends on src/functions/ being imported for its side effects.

const OPERATORS: FunctionDef[] = []
const scalar = (def: Omit<FunctionDef, 'kind'>): void => {
  OPERATORS.push({ ...def, kind: 'scalar' })
}

export function registerOperators(registry: FunctionRegistry): void {
  for (const def of OPERATORS) registry.register(def, { replace: true, builtIn: true })
}

const BOOL = (nullable: boolean): ColumnType => t('bool', nullable)

/** A json operand compared with a scalar is unwrapped to that scalar's type (meta.path('n') > 3). */
function unwrapJson(arg: SqlArg, other: ColumnType): string {
  if (arg.type.kind !== 'json' || other.kind === 'json') return arg.sql
  const text = `((${arg.sql}) #>> '{}')`
  return other.kind === 'string' ? text : `${text}::${pgType(other)}`
}

function comparable(node: FnNode, a: ColumnType, b: ColumnType): void {
  if (a.kind === 'json' || b.kind === 'json') return
  if (commonType(a, b)) return
  const strings = new Set(['timestamp', 'date', 'uuid', 'string', 'image', 'video', 'audio', 'document'])
  if (strings.has(a.kind) && strings.has(b.kind)) return
  throw typeError(node, `cannot compare ${formatType(a)} with ${formatType(b)}`)
}

function comparison(name: string, op: string, test: (c: number) => boolean) {
  scalar({
    name, minArgs: 2, maxArgs: 2, coerceLiterals: true,
    returnType: ([a, b], node) => (comparable(node, a!, b!), BOOL(a!.nullable || b!.nullable)),
    sql: ([a, b]) => `(${unwrapJson(a!, b!.type)} ${op} ${unwrapJson(b!, a!.type)})`,
    eval: ([a, b]) => test(compareValues(a, b)),
  })
}
comparison('gt', '>', (c) => c > 0)
comparison('ge', '>=', (c) => c >= 0)
comparison('lt', '<', (c) => c < 0)
comparison('le', '<=', (c) => c <= 0)

// == null / != null mean IS NULL / IS NOT NULL, as users of Pixeltable expect.
const isNullish = (x: unknown): boolean => x === null || x === undefined
const isNullLiteral = (_a: SqlArg, node: FnNode, i: number): boolean => {
  const arg = node.args[i]!
  return 'lit' in arg && arg.lit === null
}
/** Index of the argument that is a null literal, or -1. */
const nullLiteralSide = (node: FnNode): number => node.args.findIndex((x) => 'lit' in x && x.lit === null)
scalar({
  name: 'eq', minArgs: 2, maxArgs: 2, nullSafe: true, coerceLiterals: true,
  returnType: ([a, b], node) => (comparable(node, a!, b!), BOOL(a!.nullable || b!.nullable)),
  sql: ([a, b], _e, node) => {
    if (isNullLiteral(b!, node, 1)) return `(${a!.sql} is null)`
    if (isNullLiteral(a!, node, 0)) return `(${b!.sql} is null)`
    return `(${unwrapJson(a!, b!.type)} = ${unwrapJson(b!, a!.type)})`
  },
  eval: ([a, b], node) => {
    const nullLit = nullLiteralSide(node)
    if (nullLit >= 0) return isNullish(nullLit === 0 ? b : a)
    if (isNullish(a) || isNullish(b)) return null
    return valuesEqual(a, b)
  },
})
scalar({
  name: 'ne', minArgs: 2, maxArgs: 2, nullSafe: true, coerceLiterals: true,
  returnType: ([a, b], node) => (comparable(node, a!, b!), BOOL(a!.nullable || b!.nullable)),
  sql: ([a, b], _e, node) => {
    if (isNullLiteral(b!, node, 1)) return `(${a!.sql} is not null)`
    if (isNullLiteral(a!, node, 0)) return `(${b!.sql} is not null)`
    return `(${unwrapJson(a!, b!.type)} <> ${unwrapJson(b!, a!.type)})`
  },
  eval: ([a, b], node) => {
    const nullLit = nullLiteralSide(node)
    if (nullLit >= 0) return !isNullish(nullLit === 0 ? b : a)
    if (isNullish(a) || isNullish(b)) return null
    return !valuesEqual(a, b)
  },
})

scalar({
  name: 'is_null', minArgs: 1, maxArgs: 1, nullSafe: true,
  returnType: () => BOOL(false),
  sql: ([a]) => `(${a!.sql} is null)`,
  eval: ([a]) => a === null || a === undefined,
})
scalar({
  name: 'is_not_null', minArgs: 1, maxArgs: 1, nullSafe: true,
  returnType: () => BOOL(false),
  sql: ([a]) => `(${a!.sql} is not null)`,
  eval: ([a]) => !(a === null || a === undefined),
})

function expectBools(node: FnNode, types: readonly ColumnType[]): ColumnType {
  types.forEach((x, i) => {
    if (x.kind !== 'bool') throw typeError(node, `${node.fn}() argument ${i + 1} must be bool, got ${formatType(x)}`)
  })
  return BOOL(anyNullable(types))
}
// SQL three-valued logic: false AND null = false, true OR null = true.
scalar({
  name: 'and', minArgs: 1, maxArgs: Infinity, nullSafe: true,
  returnType: (types, node) => expectBools(node, types),
  sql: (args) => `(${args.map((a) => a.sql).join(' and ')})`,
  eval: (args) => (args.some((a) => a === false) ? false : args.some((a) => a === null || a === undefined) ? null : true),
})
scalar({
  name: 'or', minArgs: 1, maxArgs: Infinity, nullSafe: true,
  returnType: (types, node) => expectBools(node, types),
  sql: (args) => `(${args.map((a) => a.sql).join(' or ')})`,
  eval: (args) => (args.some((a) => a === true) ? true : args.some((a) => a === null || a === undefined) ? null : false),
})
scalar({
  name: 'not', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => expectBools(node, types),
  sql: ([a]) => `(not ${a!.sql})`,
  eval: ([a]) => !a,
})

// JS arithmetic yields -0 (0 * -1, Math.floor(0 / -2)); Postgres integers have no -0, so results are normalised.
const noNegZero = (x: number): number => (x === 0 ? 0 : x)

function numericResult(node: FnNode, [a, b]: readonly ColumnType[], forceFloat = false): ColumnType {
  if (!isNumeric(a!) || !isNumeric(b!)) {
    throw typeError(node, `${node.fn}() needs numbers, got ${formatType(a!)} and ${formatType(b!)}`)
  }
  const kind = forceFloat || a!.kind === 'float' || b!.kind === 'float' ? 'float' : 'int'
  return t(kind, a!.nullable || b!.nullable)
}

scalar({
  name: 'add', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => {
    if (types[0]!.kind === 'string' && types[1]!.kind === 'string') return t('string', anyNullable(types))
    return numericResult(node, types)
  },
  sql: ([a, b]) => (a!.type.kind === 'string' ? `(${a!.sql} || ${b!.sql})` : `(${a!.sql} + ${b!.sql})`),
  eval: ([a, b]) => (a as number) + (b as number),
})
scalar({
  name: 'sub', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => numericResult(node, types),
  sql: ([a, b]) => `(${a!.sql} - ${b!.sql})`,
  eval: ([a, b]) => (a as number) - (b as number),
})
scalar({
  name: 'mul', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => numericResult(node, types),
  sql: ([a, b]) => `(${a!.sql} * ${b!.sql})`,
  eval: ([a, b]) => noNegZero((a as number) * (b as number)),
})
// `/` is true division (5 / 2 = 2.5), as in Python; floordiv is `//`.
scalar({
  name: 'div', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => numericResult(node, types, true),
  sql: ([a, b]) => `(${a!.sql}::double precision / nullif(${b!.sql}, 0))`,
  eval: ([a, b]) => ((b as number) === 0 ? null : (a as number) / (b as number)),
})
scalar({
  name: 'floordiv', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => numericResult(node, types),
  sql: ([a, b]) => {
    const q = `floor(${a!.sql}::double precision / nullif(${b!.sql}, 0))`
    return a!.type.kind === 'int' && b!.type.kind === 'int' ? `${q}::bigint` : q
  },
  eval: ([a, b]) => ((b as number) === 0 ? null : noNegZero(Math.floor((a as number) / (b as number)))),
})
// Python-style modulo: the result has the divisor's sign.
scalar({
  name: 'mod', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => numericResult(node, types),
  sql: ([a, b]) => {
    if (a!.type.kind === 'int' && b!.type.kind === 'int') return `(((${a!.sql} % nullif(${b!.sql}, 0)) + ${b!.sql}) % nullif(${b!.sql}, 0))`
    const x = `${a!.sql}::double precision`
    const y = `nullif(${b!.sql}, 0)::double precision`
    return `(${x} - ${y} * floor(${x} / ${y}))`
  },
  eval: ([a, b]) => ((b as number) === 0 ? null : noNegZero((((a as number) % (b as number)) + (b as number)) % (b as number))),
})
scalar({
  name: 'neg', minArgs: 1, maxArgs: 1,
  returnType: ([a], node) => {
    if (!isNumeric(a!)) throw typeError(node, `cannot negate ${formatType(a!)}`)
    return a!
  },
  sql: ([a]) => `(- ${a!.sql})`,
  eval: ([a]) => noNegZero(-(a as number)),
})

// SQL semantics: x in () is false even for a null x; otherwise a null x, or no match with a null in the list, is null.
scalar({
  name: 'isin', minArgs: 1, maxArgs: 1, nullSafe: true,
  returnType: ([a], node) => {
    if (!Array.isArray(node.opts?.values)) throw typeError(node, 'isin() needs a list of values')
    return BOOL(a!.nullable)
  },
  sql: ([a], emit, node) => {
    const values = node.opts!.values as unknown[]
    if (values.length === 0) return 'false'
    if (a!.type.kind === 'json') return `(${a!.sql} = any(${emit.param(values.map((x) => JSON.stringify(x)))}::jsonb[]))`
    return `(${a!.sql} = any(${emit.param(values)}::${pgType({ ...a!.type, nullable: false })}[]))`
  },
  eval: ([a], node) => {
    const values = node.opts!.values as unknown[]
    if (values.length === 0) return false
    if (isNullish(a)) return null
    if (values.some((x) => !isNullish(x) && valuesEqual(a, x))) return true
    return values.some(isNullish) ? null : false
  },
})

// Kinds stored as text (strings and media references) and json convert to and from every kind: their casts can only
// fail on a value. Between the other kinds Postgres has only these casts (bool → int and float go through integer,
// below); any other pair is refused when the expression is typed, instead of failing in the store.
const TEXT_KINDS = new Set(['string', 'image', 'video', 'audio', 'document', 'json'])
const CASTS: Readonly<Record<string, readonly string[]>> = {
  int: ['float', 'bool'], float: ['int', 'bool'], bool: ['int', 'float'], timestamp: ['date'], date: ['timestamp'], array: ['array'],
}

scalar({
  name: 'astype', minArgs: 1, maxArgs: 1,
  returnType: ([a], node) => {
    const target = parseType(String(node.opts?.type ?? ''))
    const castable = a!.kind === target.kind || TEXT_KINDS.has(a!.kind) || TEXT_KINDS.has(target.kind) || (CASTS[a!.kind] ?? []).includes(target.kind)
    if (!castable) throw typeError(node, `cannot cast ${formatType({ ...a!, nullable: false })} to ${formatType({ ...target, nullable: false })}`)
    return { ...target, nullable: a!.nullable || target.nullable }
  },
  sql: ([a], _e, node) => {
    const target = parseType(String(node.opts!.type))
    if (a!.type.kind === 'json' && target.kind !== 'json') return unwrapJson(a!, target)
    if (target.kind === 'json') return `to_jsonb(${a!.sql})`
    // Postgres has no bigint/double → boolean cast; Python's bool(x) is x != 0.
    if (target.kind === 'bool' && isNumeric(a!.type)) return `(${a!.sql} <> 0)`
    // Postgres casts boolean only to integer (not bigint or double): true → 1, false → 0, as Python's int(True).
    if (a!.type.kind === 'bool' && isNumeric(target)) return `(${a!.sql})::integer::${pgType(target)}`
    return `(${a!.sql})::${pgType(target)}`
  },
  eval: ([a], node) => castValue(a, parseType(String(node.opts!.type)), node),
})

function castValue(value: unknown, target: ColumnType, node: FnNode): unknown {
  switch (target.kind) {
    case 'string': return typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value)
    case 'int': {
      // As Postgres: strings must be integer literals ('1.5', '', '0x10' fail); floats round half away from zero.
      if (typeof value === 'string' && !/^\s*[+-]?\d+\s*$/.test(value)) throw typeError(node, `cannot cast ${briefJson(value)} to int`)
      const n = Number(value)
      if (!Number.isFinite(n)) throw typeError(node, `cannot cast ${briefJson(value)} to int`)
      return noNegZero(Math.sign(n) * Math.round(Math.abs(n)))
    }
    case 'float': {
      const n = typeof value === 'string' && value.trim() === '' ? Number.NaN : Number(value)
      if (Number.isNaN(n) && !(typeof value === 'string' && value.trim().toLowerCase() === 'nan')) throw typeError(node, `cannot cast ${briefJson(value)} to float`)
      return n
    }
    case 'bool': {
      if (typeof value !== 'string') return typeof value === 'number' ? value !== 0 : Boolean(value)
      const s = value.trim().toLowerCase()
      if (['true', 't', 'yes', 'y', '1', 'on'].includes(s)) return true
      if (['false', 'f', 'no', 'n', '0', 'off'].includes(s)) return false
      throw typeError(node, `cannot cast ${briefJson(value)} to bool`)
    }
    case 'timestamp': return value instanceof Date ? value : new Date(value as string)
    case 'json': return value
    default: return value
  }
}

scalar({
  name: 'if_else', minArgs: 3, maxArgs: 3, nullSafe: true,
  returnType: ([c, a, b], node) => {
    if (c!.kind !== 'bool') throw typeError(node, `if_else() condition must be bool, got ${formatType(c!)}`)
    const r = commonType(a!, b!)
    if (!r) throw typeError(node, `if_else() branches have different types ${formatType(a!)} and ${formatType(b!)}`)
    return r
  },
  sql: ([c, a, b]) => `(case when ${c!.sql} then ${a!.sql} else ${b!.sql} end)`,
  eval: ([c, a, b]) => (c === true ? a : b),
})

scalar({
  name: 'coalesce', minArgs: 1, maxArgs: Infinity, nullSafe: true, coerceLiterals: true,
  returnType: (types, node) => {
    let r = types[0]!
    for (const x of types.slice(1)) {
      const c = commonType(r, x)
      if (!c) throw typeError(node, `coalesce() arguments have different types ${formatType(r)} and ${formatType(x)}`)
      r = c
    }
    return { ...r, nullable: types.every((x) => x.nullable) }
  },
  sql: (args) => `coalesce(${args.map((a) => a.sql).join(', ')})`,
  eval: (args) => args.find((a) => a !== null && a !== undefined) ?? null,
})
