import type { ColumnType } from '../types/index.ts'
import { pgType } from '../types/index.ts'
import type { LitNode } from './nodes/index.ts'
import type { SqlEmitter } from './registry.ts'

// The one place identifiers are quoted and values become $n parameters. Nothing user-provided is ever spliced
// into SQL text: names go through quoteIdent (and are validated upstream), values through ParamList.

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export const DATA_SCHEMA = 'tessera_data'
/** _v_max of a row that is part of the current version. */
export const MAX_VERSION = 2147483647

export const dataTable = (tableId: number): string => `${DATA_SCHEMA}.${quoteIdent(`t${tableId}`)}`
export const valueColumn = (colId: number): string => `c${colId}`
export const errorTypeColumn = (colId: number): string => `c${colId}_et`
export const errorMsgColumn = (colId: number): string => `c${colId}_em`

/**
 * Rows of `alias` whose address lies in blocks [from, to) (`from`/`to` are SQL for block numbers, usually $n): a TID
 * range scan, no index needed. Block-paged reads, staged writes and sliced exact search all read a table this way.
 */
export const blockRangeSql = (alias: string, from: string, to: string): string =>
  `${alias}.ctid >= format('(%s,0)', ${from}::int)::tid and ${alias}.ctid < format('(%s,0)', ${to}::int)::tid`

/** The table's committed version as the catalog has it in the statement's snapshot (a scalar subquery). */
const committedVersion = (tableId: number): string => `(select version from tessera.tables where id = ${Math.trunc(tableId)})`

/**
 * Rows visible at a version: the current one (undefined) or an older one (time travel). Current reads are bounded by
 * the committed version as the catalog has it in the same snapshot, because a staged write (src/catalog/commit.ts)
 * writes rows under the next version in steps before committing it: those rows stay unseen until its final step.
 * `stagedEnds`: the store stages updates and deletes too (PGlite), so a row such a write has already ended (its
 * _v_max is the uncommitted version) is still current for readers until that version commits.
 */
export function visibleAt(alias: string, version: number | undefined, tableId: number, stagedEnds = false): string {
  // `+ 0`: the bound holds for nearly every row, but with a subquery the planner cannot know that and would pick the
  // _v_min index over a selective one (the primary key, a full-text index); as an expression it stays a filter.
  const committed = committedVersion(tableId)
  const current = `${alias}._v_max = ${MAX_VERSION} and ${alias}._v_min + 0 <= ${committed}`
  // Two arms, not `_v_max > committed`: the first keeps the partial indexes on current rows (key, full text, _rowid)
  // usable, the second is a range over the _v_max index that finds nothing unless a staged update or delete runs
  // (measured on 100k rows: point reads and _rowid probes as fast as the one-arm form; a range form fell back to
  // the _v_min index, 30-100x slower).
  if (version === undefined) return stagedEnds ? `((${current}) or (${alias}._v_max <> ${MAX_VERSION} and ${alias}._v_max > ${committed} and ${alias}._v_min + 0 <= ${committed}))` : current
  const v = Math.trunc(version)
  return `${alias}._v_min <= ${v} and ${alias}._v_max > ${v}`
}

/**
 * How many row versions of a table a current read may have to leave out, counted up to `cap + 1`: every ended
 * version (_v_max not MAX, through the partial _v_max index) and every row of a staged write not yet committed
 * (_v_min above the committed version, through the _v_min index). A top-N read that sorts the first
 * limit + this many rows before its visibility filter keeps every visible row it needs (see emit.ts, lateVisibility).
 */
export function hiddenRowsBound(tableId: number, cap: number): string {
  const t = dataTable(tableId)
  return `select count(*)::int as n from (select 1 from ${t} where _v_max <> ${MAX_VERSION} union all select 1 from ${t} where _v_min > ${committedVersion(tableId)} limit ${Math.trunc(cap) + 1}) as hidden`
}

/**
 * A literal's value as the store's parameter of `type`. Literals are checked against their type before they get here
 * (src/query/literals.ts); this only converts the forms JSON carries: a timestamp's text to a Date, bytes' base64
 * text to bytes (a bytea parameter takes bytes only: text failed with 'Invalid input for bytea type').
 */
export function toParam(value: unknown, type?: ColumnType): unknown {
  if (value === null || value === undefined) return null
  if (type?.kind === 'json') return JSON.stringify(value)
  if (type?.kind === 'timestamp' && typeof value === 'string') return new Date(value)
  if (type?.kind === 'date' && value instanceof Date) return value.toISOString().slice(0, 10)
  if (type?.kind === 'binary' && typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'))
  return value
}

/** Where a parameter's value comes from in a cached plan: literal number `slot` of the query's shape, as `type`. */
export interface LiteralSource {
  readonly slot: number
  readonly type: ColumnType | undefined
}

export class ParamList implements SqlEmitter {
  readonly values: unknown[] = []
  /** Per parameter: the shape's literal it was made from, or undefined for a value fixed by the shape itself. */
  readonly sources: (LiteralSource | undefined)[] = []
  readonly #slots: ReadonlyMap<LitNode, number> | undefined

  /** `slots` numbers the query's literals (src/query/shape.ts), so a plan can be refilled with other values. */
  constructor(start: readonly unknown[] = [], slots?: ReadonlyMap<LitNode, number>) {
    this.values.push(...start)
    this.sources.length = start.length
    this.#slots = slots
  }

  param(value: unknown, type?: ColumnType): string {
    this.values.push(toParam(value, type))
    this.sources.push(undefined)
    const placeholder = `$${this.values.length}`
    return type ? `${placeholder}::${pgType(type)}` : placeholder
  }

  literal(node: LitNode, type: ColumnType): string {
    const placeholder = this.param(node.lit, type)
    const slot = this.#slots?.get(node)
    if (slot !== undefined) this.sources[this.sources.length - 1] = { slot, type }
    return placeholder
  }
}
