import type { ColumnMd, TableMd } from '../../catalog/index.ts'
import { functions, isCol, isFn, isLit } from '../../query/index.ts'
import type { ExprNode, FnNode } from '../../query/index.ts'
import { parseType } from '../../types/index.ts'

// A native index's copy of the columns its searches filter on or return, by _rowid, kept at the version its graph
// covers. With it a filtered search judges its candidates here instead of sending them to the store: that probe
// statement read each candidate's heap page (the rows carry their vectors inline, so the table is far bigger than the
// store's buffer pool and most of those reads went to the files), 4 ms of a 7 ms search at 10% of 100k rows. A
// search that returns only copied columns is answered from the index and this copy with no statement at all, while
// they cover every commit (plan.ts); otherwise the final statement applies the filter and reads the rows.
//
// Only filters this code evaluates exactly as Postgres does: comparisons of a stored (not computed) int, float or
// bool column with a literal of the same type, equality and in-lists on strings, null tests, and/or/not. Anything
// else goes through the store as before.

/** Column kinds copied, and the comparisons each supports. */
const ORDERED = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge'])
const EQUALITY = new Set(['eq', 'ne'])
const LOGIC = new Set(['and', 'or', 'not'])
const NULL_TESTS = new Set(['is_null', 'is_not_null'])
type Kind = 'int' | 'float' | 'bool' | 'string'
const KINDS = new Set<string>(['int', 'float', 'bool', 'string'])

/**
 * At most this many values (rows × columns) per index, ~70 bytes each in a Map (~7 MB per 100k-row int column, ~10 MB
 * of short strings): a bigger copy is not kept.
 */
export const COPIED_VALUES_MAX = 2_000_000
/** Columns per index. */
const COLUMNS_MAX = 4
/**
 * Characters of one string column's copy: a column of long texts (documents, not names or tags) is not kept, and
 * searches returning or filtering on it go through the store.
 */
export const STRING_CHARS_MAX = 8_000_000

interface CopiedColumn {
  readonly kind: Kind
  /** _rowid → value (null: SQL NULL); a key missing was not written up to `version` (or not current then). */
  readonly values: Map<number, unknown>
  /** The table version the copy holds every current row of; -1 while it is being loaded. */
  version: number
  /** A value this code cannot compare as Postgres does (NaN, an integer beyond 2^53): the column is not used. */
  unusable: boolean
  /** Characters held (string columns). */
  chars: number
  /** Past STRING_CHARS_MAX: not copied (and not loaded again) for as long as the index lives. */
  oversized: boolean
  /** A filter tests it (else it is only returned by searches, and gives way to a filter's column). */
  filters: boolean
}

export class ColumnCopies {
  /** By column id (a renamed column keeps its copy; a dropped one's is let go in retain). */
  readonly #columns = new Map<number, CopiedColumn>()

  /**
   * The stored columns `where` (over the one table of `md`) tests, when every test is one this copy can judge
   * exactly; undefined otherwise (the search probes the store).
   */
  static columnsOf(where: ExprNode, md: TableMd): ColumnMd[] | undefined {
    const used = new Map<string, ColumnMd>()
    const column = (n: ExprNode) => copyable(n, md)
    const literalFits = (lit: unknown, kind: Kind): boolean =>
      lit === null || (kind === 'int' ? Number.isSafeInteger(lit) : kind === 'float' ? typeof lit === 'number' && Number.isFinite(lit) : kind === 'bool' ? typeof lit === 'boolean' : typeof lit === 'string')
    const judgeable = (n: ExprNode): boolean => {
      if (!isFn(n)) return false
      if (LOGIC.has(n.fn)) return n.args.length > 0 && n.args.every(judgeable)
      if (NULL_TESTS.has(n.fn) || n.fn === 'isin') {
        const c = n.args.length === 1 ? column(n.args[0]!) : undefined
        if (!c) return false
        if (n.fn === 'isin') {
          const values = n.opts?.values
          if (!Array.isArray(values) || !values.every((v) => literalFits(v, c.kind))) return false
        }
        used.set(c.md.name, c.md)
        return true
      }
      if (!ORDERED.has(n.fn) || n.args.length !== 2) return false
      const [a, b] = n.args as [ExprNode, ExprNode]
      const c = column(a) ?? column(b)
      const lit = isLit(a) ? a : isLit(b) ? b : undefined
      if (!c || !lit || lit.type !== undefined || !literalFits(lit.lit, c.kind)) return false
      // Strings: equality only (ordering would depend on the store's collation).
      if (c.kind === 'string' && !EQUALITY.has(n.fn)) return false
      used.set(c.md.name, c.md)
      return true
    }
    return judgeable(where) && used.size > 0 ? [...used.values()] : undefined
  }

  /**
   * The stored columns a select list returns, when it returns nothing else (each item a column of a kind this copy
   * keeps): such a search can be answered from the index and the copy alone.
   */
  static columnsReturned(select: readonly { readonly expr: ExprNode }[] | undefined, md: TableMd): ColumnMd[] | undefined {
    if (!select || select.length === 0) return undefined
    const columns: ColumnMd[] = []
    for (const item of select) {
      const c = copyable(item.expr, md)
      if (!c) return undefined
      if (!columns.includes(c.md)) columns.push(c.md)
    }
    return columns
  }

  /**
   * Asks for copies of these columns (loaded by the index's upkeep); false when nothing new is to be loaded (held
   * already, or the copy would be too big). A filter's columns come first: they save a probe statement per search,
   * a returned column only the final one; so to make room for a filter's, columns only ever returned are let go.
   */
  want(columns: readonly ColumnMd[], rows: number, use: 'filter' | 'returned'): boolean {
    if (use === 'filter') {
      for (const c of columns) {
        const held = this.#columns.get(c.id)
        if (held) held.filters = true
      }
    }
    const missing = columns.filter((c) => !this.#columns.has(c.id))
    if (missing.length === 0) return false
    const fits = (): boolean => this.#columns.size + missing.length <= COLUMNS_MAX && (this.#columns.size + missing.length) * rows <= COPIED_VALUES_MAX
    if (!fits() && use === 'filter') {
      for (const [id, c] of this.#columns) if (!c.filters && !fits()) this.#columns.delete(id)
    }
    if (!fits()) return false
    for (const c of missing) this.#columns.set(c.id, { kind: parseType(c.type).kind as Kind, values: new Map(), version: -1, unusable: false, chars: 0, oversized: false, filters: use === 'filter' })
    return true
  }

  /** Lets go of the copies of columns the table no longer has (dropped): nothing reads them again. */
  retain(columns: readonly ColumnMd[]): void {
    const live = new Set(columns.filter((c) => !c.computed).map((c) => c.id))
    for (const id of this.#columns.keys()) if (!live.has(id)) this.#columns.delete(id)
  }

  /** The copied columns at `version` (to extend) and those that need a whole load. */
  split(version: number): { current: number[]; stale: number[] } {
    const current: number[] = []
    const stale: number[] = []
    for (const [id, c] of this.#columns) if (!c.oversized) (c.version === version && version >= 0 ? current : stale).push(id)
    return { current, stale }
  }

  /** Starts a whole load of these columns: what they held is dropped. */
  reset(ids: readonly number[]): void {
    for (const id of ids) {
      const c = this.#columns.get(id)
      if (!c) continue
      c.values.clear()
      c.version = -1
      c.unusable = false
      c.chars = 0
    }
  }

  /** Rows read for these columns (a page of a load or of a catch-up). */
  put(ids: readonly number[], keys: readonly number[], values: readonly (readonly unknown[])[]): void {
    ids.forEach((id, i) => {
      // Dropped meanwhile (retain): the page is not needed.
      const c = this.#columns.get(id)
      if (!c || c.oversized) return
      keys.forEach((key, r) => {
        const v = normalize(values[r]![i], c.kind)
        if (v === undefined) c.unusable = true
        if (typeof v === 'string') c.chars += v.length
        c.values.set(key, v ?? null)
      })
      if (c.chars > STRING_CHARS_MAX) {
        c.oversized = c.unusable = true
        c.values.clear()
      }
    })
  }

  /** The columns now hold every current row of `version`. */
  reached(ids: readonly number[], version: number): void {
    for (const id of ids) {
      const c = this.#columns.get(id)
      if (c) c.version = version
    }
  }

  /** Drops every copy (a rebuild: the graph starts again from nothing); an oversized column stays uncopied. */
  clear(): void {
    for (const c of this.#columns.values()) {
      c.values.clear()
      c.version = -1
      c.unusable = c.oversized
      c.chars = 0
    }
  }

  /**
   * The keys (of `keys`) whose rows pass `where`, judged from the copies at `version`; undefined when a column is
   * not copied at that version or a key is not in it (the caller probes the store instead).
   */
  passing(where: ExprNode, columns: readonly ColumnMd[], keys: readonly string[], version: number): string[] | undefined {
    const copies = new Map<string, CopiedColumn>()
    for (const c of columns) {
      const copy = this.#usable(c, version)
      if (!copy) return undefined
      copies.set(c.name, copy)
    }
    const rowIds = keys.map(Number)
    for (const copy of copies.values()) if (!rowIds.every((k) => copy.values.has(k))) return undefined
    const test = compile(where, copies)
    return keys.filter((_, i) => test(rowIds[i]!) === true)
  }

  /**
   * The values of these columns for these rows (numeric _rowid) at `version`, a column's values per entry, as the
   * query's results hold them (int and float as numbers, bool, string, null); undefined when a column is not copied
   * at that version or a row is missing from it.
   */
  values(columns: readonly ColumnMd[], rowIds: readonly number[], version: number): unknown[][] | undefined {
    const out: unknown[][] = []
    for (const c of columns) {
      const copy = this.#usable(c, version)
      if (!copy) return undefined
      const values = new Array<unknown>(rowIds.length)
      for (let i = 0; i < rowIds.length; i++) {
        const v = copy.values.get(rowIds[i]!)
        if (v === undefined) return undefined
        values[i] = v
      }
      out.push(values)
    }
    return out
  }

  /** A column's copy when it holds every current row of `version` and every value is one this code can use. */
  #usable(column: ColumnMd, version: number): CopiedColumn | undefined {
    const copy = this.#columns.get(column.id)
    return copy && copy.version === version && !copy.unusable ? copy : undefined
  }

  /** Values held (tests, benchmarks). */
  get size(): number {
    let n = 0
    for (const c of this.#columns.values()) n += c.values.size
    return n
  }
}

/** A column node naming a stored (not computed) column of a kind this copy keeps. */
function copyable(n: ExprNode, md: TableMd): { md: ColumnMd; kind: Kind } | undefined {
  // `tbl` can only name the one table: a search the native index answers has no joins (plan.ts).
  if (!isCol(n) || n.prop) return undefined
  const c = md.columns.find((x) => x.name === n.col)
  if (!c || c.computed || c.hidden) return undefined
  const kind = parseType(c.type).kind
  if (!KINDS.has(kind)) return undefined
  return { md: c, kind: kind as Kind }
}

/**
 * `where` as a function of a row's _rowid over the copies, with the query evaluator's own operators (their `eval`,
 * which agrees with Postgres for these types) and its null rule: an operator that is not null-safe yields null when
 * an argument is null. Only for filters columnsOf accepted.
 */
function compile(node: ExprNode, copies: ReadonlyMap<string, CopiedColumn>): (rowId: number) => unknown {
  if (isLit(node)) return () => node.lit
  if (isCol(node)) {
    const values = copies.get(node.col)!.values
    return (rowId) => values.get(rowId)
  }
  const fn = node as FnNode
  const def = functions.get(fn.fn, fn)
  const args = fn.args.map((a) => compile(a, copies))
  const evaluate = def.eval!
  const nullSafe = def.nullSafe === true
  // A plain loop, not map + some: this runs once per candidate and operator (3,000 candidates for a 1% filter).
  return (rowId) => {
    const values = new Array<unknown>(args.length)
    for (let i = 0; i < args.length; i++) {
      const v = args[i]!(rowId)
      if (!nullSafe && (v === null || v === undefined)) return null
      values[i] = v
    }
    return evaluate(values, fn)
  }
}

/** A value as the evaluator compares it; undefined for one it cannot (the column is then not used). */
function normalize(v: unknown, kind: Kind): unknown {
  if (v === null || v === undefined) return null
  switch (kind) {
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'bigint' || typeof v === 'string' ? Number(v) : NaN
      return Number.isSafeInteger(n) ? n : undefined
    }
    case 'float': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN
      return Number.isFinite(n) ? n : undefined
    }
    case 'bool':
      return typeof v === 'boolean' ? v : undefined
    case 'string':
      return typeof v === 'string' ? v : undefined
  }
}
