import { invalid } from '../errors.ts'
import type { ColumnType } from '../types/index.ts'
import { formatType } from '../types/index.ts'
import type { FnNode } from './nodes/index.ts'
import { printExpr } from './nodes/index.ts'

// Helpers every function definition uses (type errors naming the expression, argument kinds, result types). Apart
// from registry.ts so that the core operators (operators.ts), which registry.ts registers, can use them too.

export function typeError(node: FnNode, message: string): Error {
  return invalid('INVALID_EXPRESSION', `${message} in ${printExpr(node)}`, { expression: printExpr(node) })
}

export function expectKinds(node: FnNode, argTypes: readonly ColumnType[], index: number, kinds: readonly string[]): void {
  const t = argTypes[index]
  if (!t || !kinds.includes(t.kind)) {
    throw typeError(node, `${node.fn}() argument ${index + 1} must be ${kinds.join(' or ')}, got ${t ? formatType(t) : 'nothing'}`)
  }
}

export const anyNullable = (types: readonly ColumnType[]): boolean => types.some((t) => t.nullable)

export const t = (kind: ColumnType['kind'], nullable = false, extra: Partial<ColumnType> = {}): ColumnType =>
  Object.freeze({ kind, nullable, ...extra })
