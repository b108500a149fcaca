import { invalid, notFound } from '../errors.ts'
import { parseType } from '../types/index.ts'
import type { ColNode } from './nodes/index.ts'
import { printExpr } from './nodes/index.ts'
import type { QuerySource } from './spec.ts'
import { valueColumn } from './sql.ts'
import type { ColumnBinding, Scope } from './typecheck.ts'

/** Resolves column names against the tables of one query (t0 = the main table, t1.. = joined tables). */
export class SourceScope implements Scope {
  readonly #sources: readonly { source: QuerySource; alias: string }[]

  constructor(sources: readonly { source: QuerySource; alias: string }[]) {
    this.#sources = sources
  }

  resolve(node: ColNode): ColumnBinding {
    const candidates = this.#sources.filter((s) => !node.tbl || s.source.path === node.tbl || s.source.path.split('/').at(-1) === node.tbl)
    if (candidates.length === 0) {
      throw invalid('INVALID_EXPRESSION', `table '${node.tbl}' is not part of this query (in ${printExpr(node)})`, { expression: printExpr(node) })
    }
    const hits = candidates.flatMap((s) => {
      const column = s.source.md.columns.find((c) => c.name === node.col)
      return column ? [{ s, column }] : []
    })
    if (hits.length === 0) {
      const names = candidates.flatMap((s) => s.source.md.columns.filter((c) => !c.hidden).map((c) => c.name))
      const where = candidates.map((s) => `'${s.source.path}'`).join(', ')
      throw notFound('COLUMN_NOT_FOUND', `unknown column '${node.col}' in ${where}; columns are: ${names.join(', ') || '(none)'}`, {
        column: node.col,
        table: candidates[0]!.source.path,
      })
    }
    if (hits.length > 1) {
      throw invalid('INVALID_EXPRESSION', `column '${node.col}' is ambiguous; qualify it with its table (e.g. ${hits[0]!.s.source.path}.c.${node.col})`, { column: node.col })
    }
    const { s, column } = hits[0]!
    const physical = valueColumn(column.id)
    return { sql: `${s.alias}.${physical}`, type: parseType(column.type), key: `${s.alias}_${physical}`, computed: column.computed !== undefined || column.cellErrors === true }
  }
}
