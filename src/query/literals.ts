import * as v from 'valibot'
import { invalid } from '../errors.ts'
import type { ColumnType } from '../types/index.ts'
import { formatType, valueSchema } from '../types/index.ts'
import type { ExprNode, FnNode, LitNode } from './nodes/index.ts'
import { isLit, printExpr } from './nodes/index.ts'

// A literal that stands for a value of a type (a typed literal, or a string compared with a timestamp column) is
// checked as an inserted value of that type is (src/types/validate.ts), before any SQL runs. Unchecked, the store
// was the first to look at it: `true` as a date, `{"a": 1}` as binary or 1.5 as an array failed there with a bare
// driver error (an HTTP 500), 'yesterday' as a timestamp became an Invalid Date, and '2024-02-30' was read as
// March 1 where a date column refused it.

/**
 * Why `value` is not a value of type `t`, or undefined when it is one. Null stands for no value of any type.
 * 'Infinity' and '-Infinity' are floats: JSON has no other spelling for them, and an update's float value travels
 * as that text (toStoreJson).
 */
export function literalProblem(value: unknown, t: ColumnType): string | undefined {
  if (value === null) return undefined
  if (t.kind === 'float' && (value === 'Infinity' || value === '-Infinity')) return undefined
  const parsed = v.safeParse(valueSchema({ ...t, nullable: true }), value)
  return parsed.success ? undefined : parsed.issues[0].message
}

const EXAMPLES: Partial<Record<ColumnType['kind'], string>> = { timestamp: '2026-12-02T10:00:00Z', date: '2026-12-02' }

const article = (word: string): string => (/^[aeio]/.test(word) ? 'an' : 'a')

/**
 * Throws INVALID_EXPRESSION when literal `node` is not a value of type `t`, naming the literal, the type and the
 * expression it sits in (`within`, e.g. the comparison a string literal is read as a timestamp for).
 */
export function checkLiteral(node: LitNode, t: ColumnType, within?: ExprNode): void {
  const problem = literalProblem(node.lit, t)
  if (problem === undefined) return
  const type = formatType({ ...t, nullable: false })
  const shown = typeof node.lit === 'string' ? `'${node.lit.slice(0, 40)}${node.lit.length > 40 ? '…' : ''}'` : printExpr(node).slice(0, 60)
  const example = EXAMPLES[t.kind] && problem.startsWith('expected') ? ` (e.g. '${EXAMPLES[t.kind]}')` : ''
  const expression = printExpr(within ?? node)
  const where = within ? ` in ${expression}` : ''
  throw invalid('INVALID_EXPRESSION', `${shown} is not ${article(type)} ${type} value${where}: ${problem}${example}`, { expression })
}

/**
 * Per argument of a call whose function reads literals as its other arguments' type (comparisons, coalesce, clip):
 * the type an untyped literal argument is read as, or undefined where it keeps its own. A string compared with a
 * date, timestamp or uuid column is read as that type; an int compared with a float as a float. `types`: the
 * arguments' own types (a literal's is litType's).
 */
export function coercedLiteralTypes(node: FnNode, types: readonly ColumnType[]): (ColumnType | undefined)[] {
  const target = types.find((t, i) => !isLit(node.args[i]!) && t.kind !== 'json')
  return node.args.map((a, i) => (target && isLit(a) && !a.type && a.lit !== null ? coercedLiteralType(types[i]!, target) : undefined))
}

/** The type a literal of type `lit` is read as beside `target` (coercedLiteralTypes), or undefined: its own. */
export function coercedLiteralType(lit: ColumnType, target: ColumnType): ColumnType | undefined {
  if (lit.kind === 'string' && (target.kind === 'timestamp' || target.kind === 'date' || target.kind === 'uuid')) return { kind: target.kind, nullable: false }
  if (lit.kind === 'int' && target.kind === 'float') return { kind: 'float', nullable: false }
  return undefined
}

/** Checks the literals of `node` that are read as another type (coercedLiteralTypes) against that type. */
export function checkCoercedLiterals(node: FnNode, coerced: readonly (ColumnType | undefined)[]): void {
  coerced.forEach((t, i) => t && checkLiteral(node.args[i] as LitNode, t, node))
}
