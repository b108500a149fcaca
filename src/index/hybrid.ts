import type { Table } from '../catalog/index.ts'
import { invalid, refuseUnknownOptions } from '../errors.ts'
import type { ExprLike, Expr } from '../query/index.ts'
import { call, ResultSet } from '../query/index.ts'
import { checkQueryWords } from './functions.ts'
import { freeOutputNames } from './output-names.ts'
import { checkIntOption, SEARCH_MAX_CANDIDATES, SEARCH_MAX_K } from './search-limits.ts'

// Hybrid search: Postgres full-text ranking and vector similarity, each taking its own top candidates, fused by
// reciprocal rank (score = Σ 1 / (rrfK + rank)), which needs no score calibration between the two.
// The answer holds every column of the table as it is, then score, textRank and vectorRank (each renamed when the
// table has a column of that name: output-names.ts).

const OPTIONS = ['column', 'k', 'idx', 'where', 'candidates', 'language', 'rrfK', 'withErrors'] as const
/** The row's id on both sides: '#' is in no column name, so no column of the table is shadowed or dropped. */
const ROW_ID = '#rowid'
const RRF_K_MAX = 1_000_000

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

/** Refuses what the library would otherwise ignore or misread: unknown options, k and candidates out of bounds. */
function checkOptions(options: HybridSearchOptions): void {
  if (!options || typeof options !== 'object') throw invalid('INVALID_ARGUMENT', "hybridSearch() needs options with the text column: { column: 'text' }")
  refuseUnknownOptions('hybridSearch', options, OPTIONS)
  checkIntOption('hybridSearch()', 'k', options.k, 1, SEARCH_MAX_K)
  checkIntOption('hybridSearch()', 'candidates', options.candidates, 1, SEARCH_MAX_CANDIDATES)
  const rrfK = options.rrfK
  if (rrfK !== undefined && !(typeof rrfK === 'number' && rrfK >= 0 && rrfK <= RRF_K_MAX)) {
    throw invalid('INVALID_ARGUMENT', `hybridSearch(): rrfK must be a number from 0 to ${RRF_K_MAX}, got ${JSON.stringify(rrfK)}`, { option: 'rrfK' })
  }
}

export async function hybridSearch(table: Table, query: string, options: HybridSearchOptions): Promise<ResultSet> {
  checkOptions(options)
  if (typeof query !== 'string' || query.trim() === '') throw invalid('INVALID_ARGUMENT', 'hybridSearch() needs a non-empty query string')
  checkQueryWords('hybridSearch()', query)
  const k = options.k ?? 10
  const n = options.candidates ?? Math.max(k * 4, 20)
  const rrfK = options.rrfK ?? 60
  const col = table.col(options.column)
  // Full text reads text: another column failed inside the query it builds, naming fts_match() and not the column.
  const type = table.schema()[options.column]
  if (type !== undefined && !/^string\??$/.test(type)) throw invalid('INVALID_ARGUMENT', `hybridSearch(): column '${options.column}' of '${table.path}' is ${type}; hybrid search ranks a string column by full text and by its embedding index`, { column: options.column })
  const index = table.listIndexes().find((i) => i.column === options.column && (options.idx === undefined || i.name === options.idx))
  const lang = { language: options.language ?? index?.fullText ?? 'english' }
  const visible = searchOutputs(table, options.withErrors)
  const out = freeOutputNames(Object.keys(visible), ['score', 'textRank', 'vectorRank'])
  const base = options.where === undefined ? table.query() : table.where(options.where)
  const rank = call('fts_rank', [col, query], lang)
  const sim = col.similarity(query, options.idx ? { idx: options.idx } : {})
  const withId = { ...visible, [ROW_ID]: call('row_id') }
  const [text, vector] = await Promise.all([
    base.where(call('fts_match', [col, query], lang)).orderBy(rank, 'desc').limit(n).select(withId).collect(),
    base.orderBy(sim, 'desc').limit(n).select(withId).collect(),
  ])
  const fused = new Map<number, { row: Record<string, unknown>; score: number; textRank: number | null; vectorRank: number | null }>()
  const add = (rows: readonly Record<string, unknown>[], side: 'textRank' | 'vectorRank') => rows.forEach((r, i) => {
    const id = r[ROW_ID] as number
    const e = fused.get(id) ?? { row: r, score: 0, textRank: null, vectorRank: null }
    e.score += 1 / (rrfK + i + 1)
    e[side] = i + 1
    fused.set(id, e)
  })
  add(text.rows, 'textRank')
  add(vector.rows, 'vectorRank')
  const top = [...fused.values()].sort((a, b) => b.score - a.score || (a.row[ROW_ID] as number) - (b.row[ROW_ID] as number)).slice(0, k)
  const rows = top.map(({ row, score, textRank, vectorRank }) => {
    const { [ROW_ID]: _id, ...columns } = row
    return { ...columns, [out.score]: score, [out.textRank]: textRank, [out.vectorRank]: vectorRank }
  })
  const columns = [
    ...text.columns.filter((c) => c.name !== ROW_ID),
    { name: out.score, type: 'float' }, { name: out.textRank, type: 'int?' }, { name: out.vectorRank, type: 'int?' },
  ]
  return new ResultSet(columns, rows)
}
