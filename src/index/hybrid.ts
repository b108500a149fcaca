import type { Table } from '../catalog/index.ts'
import { invalid } from '../errors.ts'
import type { ExprLike, Expr } from '../query/index.ts'
import { call, ResultSet } from '../query/index.ts'
import { checkQueryWords } from './functions.ts'

// Hybrid search: Postgres full-text ranking and vector similarity, each taking its own top candidates, fused by
// reciprocal rank (score = Σ 1 / (rrfK + rank)), which needs no score calibration between the two.

export interface HybridSearchOptions {
  /** The text column (it must have an embedding index). */
  readonly column: string
  readonly k?: number
  readonly idx?: string
  readonly where?: ExprLike
  /** Candidates taken from each side (default 4k). */
  readonly candidates?: number
  /** Text search configuration (default: the index's full-text configuration, else 'english'). */
  readonly language?: string
  /** The RRF constant (default 60). */
  readonly rrfK?: number
  /** Also return `<col>#errortype` and `<col>#errormsg` for each computed column (as the console's grids show). */
  readonly withErrors?: boolean
}

/** The outputs a search returns for its table: every visible column, and the per-cell errors when asked. */
export function searchOutputs(table: Table, withErrors = false): Record<string, Expr> {
  const out: Record<string, Expr> = {}
  for (const c of table.columns()) {
    out[c.name] = table.col(c.name)
    if (withErrors && c.computedWith !== undefined) {
      out[`${c.name}#errortype`] = table.col(c.name).errortype
      out[`${c.name}#errormsg`] = table.col(c.name).errormsg
    }
  }
  return out
}

export async function hybridSearch(table: Table, query: string, options: HybridSearchOptions): Promise<ResultSet> {
  if (typeof query !== 'string' || query.trim() === '') throw invalid('INVALID_ARGUMENT', 'hybridSearch() needs a non-empty query string')
  checkQueryWords('hybridSearch()', query)
  const k = options.k ?? 10
  const n = options.candidates ?? Math.max(k * 4, 20)
  const rrfK = options.rrfK ?? 60
  const col = table.col(options.column)
  const index = table.listIndexes().find((i) => i.column === options.column && (options.idx === undefined || i.name === options.idx))
  const lang = { language: options.language ?? index?.fullText ?? 'english' }
  const visible = searchOutputs(table, options.withErrors)
  const base = options.where === undefined ? table.query() : table.where(options.where)
  const rank = call('fts_rank', [col, query], lang)
  const sim = col.similarity(query, options.idx ? { idx: options.idx } : {})
  const [text, vector] = await Promise.all([
    base.where(call('fts_match', [col, query], lang)).orderBy(rank, 'desc').limit(n).select({ ...visible, _rid: call('row_id') }).collect(),
    base.orderBy(sim, 'desc').limit(n).select({ ...visible, _rid: call('row_id'), _sim: sim }).collect(),
  ])
  const fused = new Map<number, { row: Record<string, unknown>; score: number; textRank: number | null; vectorRank: number | null }>()
  const add = (rows: readonly Record<string, unknown>[], side: 'textRank' | 'vectorRank') => rows.forEach((r, i) => {
    const id = r._rid as number
    const e = fused.get(id) ?? { row: r, score: 0, textRank: null, vectorRank: null }
    e.score += 1 / (rrfK + i + 1)
    e[side] = i + 1
    fused.set(id, e)
  })
  add(text.rows, 'textRank')
  add(vector.rows, 'vectorRank')
  const top = [...fused.values()].sort((a, b) => b.score - a.score || (a.row._rid as number) - (b.row._rid as number)).slice(0, k)
  const rows = top.map(({ row, score, textRank, vectorRank }) => {
    const { _rid: _r, _sim: _s, ...rest } = row
    return { ...rest, score, textRank, vectorRank }
  })
  const columns = [...text.columns.filter((c) => !c.name.startsWith('_')), { name: 'score', type: 'float' }, { name: 'textRank', type: 'int?' }, { name: 'vectorRank', type: 'int?' }]
  return new ResultSet(columns, rows)
}


