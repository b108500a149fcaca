import type { Table, Tessera } from '../../src/index.ts'
import { Expr, functions } from '../../src/index.ts'
import type { ExprNode } from '../../src/query/nodes/index.ts'
import { isCol, isFn } from '../../src/query/nodes/index.ts'
import { memoryDb } from '../support/db.ts'

// One fixture table with every kind of value (and nulls), plus a TypeScript-only identity function: wrapping each
// column reference in ts_id() makes the whole expression above it run in the TypeScript evaluator, so every
// operator can be checked both ways against the same hand-computed answer.

functions.register({
  name: 'ts_id', kind: 'scalar', minArgs: 1, maxArgs: 1, nullSafe: true,
  returnType: ([a]) => a!,
  eval: ([a]) => a,
}, { replace: true })

export function forceTs(node: ExprNode): ExprNode {
  if (isCol(node)) return { fn: 'ts_id', args: [node] }
  if (isFn(node)) return { ...node, args: node.args.map(forceTs) }
  return node
}

export const tsOnly = (e: Expr): Expr => new Expr(forceTs(e.node))

export const SCHEMA = {
  id: 'int', g: 'string?', i: 'int?', f: 'float?', s: 'string?', j: 'json?', ts: 'timestamp?', d: 'date?', arr: 'array<int64>?', b: 'bool?',
} as const

export const ROWS = [
  { id: 1, g: 'a', i: 7, f: 1.5, s: 'Hello World', j: { a: [1, 2, 3], b: 'x', n: 5, items: [{ name: 'p' }, { name: 'q' }] }, ts: new Date('2024-01-01T00:00:00Z'), d: '2024-02-03', arr: [1, 2, 3], b: true },
  { id: 2, g: 'b', i: -7, f: null, s: 'bye', j: { a: [5], n: 2 }, ts: new Date('2024-06-15T12:30:00Z'), d: '2023-12-31', arr: [4, 5], b: false },
  { id: 3, g: 'a', i: 0, f: -2.25, s: null, j: null, ts: null, d: null, arr: null, b: null },
  { id: 4, g: null, i: null, f: 0, s: '', j: { a: [], items: [] }, ts: new Date('2023-03-04T05:06:07Z'), d: '2024-02-29', arr: [], b: true },
  { id: 5, g: 'b', i: 3, f: 10, s: 'HELLO', j: [1, 2], ts: new Date('2025-01-01T00:00:00Z'), d: '2025-01-01', arr: [9], b: false },
]

export interface Fixture {
  readonly db: Tessera
  readonly t: Table
}

export async function fixture(): Promise<Fixture> {
  const db = await memoryDb()
  await db.createDir('q')
  const t = await db.createTable('q/t', { ...SCHEMA }, { primaryKey: 'id' })
  await t.insert(ROWS)
  return { db, t }
}

/** The column `v` of `select({ v: e })` ordered by id. */
export async function values(t: Table, e: Expr): Promise<unknown[]> {
  return (await t.select({ v: e }).orderBy('id').collect()).column('v')
}
