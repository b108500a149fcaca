import { ConcurrencyError, invalid } from '../../errors.ts'
import { dataTable, MAX_VERSION, ParamList, quoteIdent, valueColumn } from '../../query/index.ts'
import { translateStoreError } from '../../store/index.ts'
import { parseType, toStoreJson } from '../../types/index.ts'
import { commitChange } from '../commit.ts'
import { prepareInsert, withOnErrorMd } from '../insert-prepare.ts'
import type { OnError, TableMd, UpdateStatus } from '../metadata.ts'
import type { InsertShape, SourceColumn, WriteCounts } from './rows.ts'
import { columnNameMap, emptyCounts, insertShape } from './rows.ts'
import type { CatalogContext } from '../table.ts'
import type { Row } from '../validate-rows.ts'

// The bulk load behind imports: batches of converted rows go into a staging table (COPY on PGlite; a parameterized
// insert on a server store, whose COPY stream cannot report a failure reliably), then one set-based INSERT … SELECT
// moves them into the versioned data table through the one commit unit (commit.ts): ONE table version per load,
// written in short steps under a version no reader sees until the final step. A failure at any point leaves the
// table as it was; a killed process leaves a temporary table that dies with its session (PGlite) and staged rows
// that the next open removes (repairUncommittedWrites).
//
// The staging table has the columns of the insert's row source (rows.ts insertShape: input values, media cell
// errors, TypeScript-computed values) plus _seq (the row's place in the load, dense from 0: commit steps are _seq
// ranges) and _line (the row's place in the input, for error messages).

let nextStaging = 0

/** A staged row the store refused or that collides with another: its place in the input and why. */
export interface StagedProblem {
  readonly line: number
  readonly column?: string
  readonly error: string
  readonly code: 'INVALID_ROW' | 'CONSTRAINT_VIOLATION'
}

export class BulkLoad {
  readonly #ctx: CatalogContext
  readonly #tableId: number
  readonly #onError: OnError
  readonly #md: TableMd
  readonly #shape: InsertShape
  readonly #staging: string
  readonly #counts: WriteCounts = emptyCounts()
  #next = 0
  #closed = false

  private constructor(ctx: CatalogContext, tableId: number, onError: OnError, md: TableMd, staging: string) {
    this.#ctx = ctx
    this.#tableId = tableId
    this.#onError = onError
    this.#md = md
    // The version is a placeholder here: only the source columns are used (the commit builds its own statement).
    this.#shape = insertShape(withOnErrorMd(md, onError), 0, new ParamList())
    this.#staging = staging
  }

  static async open(ctx: CatalogContext, tableId: number, onError: OnError): Promise<BulkLoad> {
    const state = ctx.state(tableId)
    const db = ctx.db
    // PGlite is one session: a temporary table is private to it and vanishes with it. A server store pools
    // connections, so the table must be a real one (unlogged: no WAL for rows that are copied once and dropped).
    const name = `import_${tableId}_${process.pid}_${nextStaging++}_${Math.random().toString(36).slice(2, 8)}`
    const staging = db.kind === 'pglite' ? quoteIdent(name) : `tessera_data.${quoteIdent(name)}`
    const load = new BulkLoad(ctx, tableId, onError, state.md, staging)
    const cols = load.#shape.source.map((c) => `${c.name} ${c.pgType}`)
    await db.exec(`create ${db.kind === 'pglite' ? 'temporary' : 'unlogged'} table ${staging} (_seq bigint not null, _line bigint not null${cols.map((c) => `, ${c}`).join('')})`)
    // Commit steps read _seq ranges: without an index each step would scan the whole staging table.
    await db.exec(`create index on ${staging} (_seq)`)
    return load
  }

  /** Rows staged so far. */
  get staged(): number {
    return this.#next
  }

  /**
   * Checks media and computes TypeScript columns for validated rows (outside any transaction), then stages them.
   * A row-level failure throws a TesseraError whose details.row is the row's index in `rows`; nothing of the batch
   * is staged then.
   */
  async add(rows: Row[], lines: readonly number[]): Promise<void> {
    this.#assertOpen()
    const state = { ...this.#ctx.state(this.#tableId), md: this.#md }
    const counts = emptyCounts()
    const prepared = await prepareInsert(this.#ctx.media, state, rows, this.#onError, counts)
    const first = this.#next
    const db = this.#ctx.db
    const columns = `${this.#staging} (_seq, _line, ${this.#shape.source.map((c) => c.name).join(', ')})`
    const cells = sourceCells(this.#md, this.#shape.source, prepared)
    try {
      if (db.copyFrom) {
        await db.copyFrom(columns, csvBatch(rows.length, first, lines, this.#shape.source, cells))
      } else {
        const record = [`_seq bigint`, `_line bigint`, ...this.#shape.source.map((c) => `${c.name} ${c.pgType}`)]
        await db.query(`insert into ${columns} select * from jsonb_to_recordset($1::jsonb) as x(${record.join(', ')})`, [jsonBatch(rows.length, first, lines, this.#shape.source, cells)])
      }
    } catch (e) {
      throw this.#rowError(e)
    }
    this.#next = first + rows.length
    addCounts(this.#counts, counts)
  }

  /** Rows whose primary key another staged row (earlier in the input) or a current row of the table already has. */
  async duplicateKeys(limit = 1000): Promise<StagedProblem[]> {
    this.#assertOpen()
    const keys = this.#md.primaryKey.map((id) => valueColumn(id))
    if (keys.length === 0) return []
    const names = this.#md.primaryKey.map((id) => this.#md.columns.find((c) => c.id === id)!.name)
    const keyText = keys.map((k) => `s.${k}::text`).join(` || ', ' || `)
    const matches = (alias: string) => keys.map((k) => `${alias}.${k} = s.${k}`).join(' and ')
    // A window over the key finds repeats inside the input in one sort; the key index finds existing rows.
    const r = await this.#ctx.db.query<{ line: number; key: string; existing: boolean }>(
      `select line, key, existing from (select s._seq, s._line::float8 as line, ${keyText} as key,
         row_number() over (partition by ${keys.map((k) => `s.${k}`).join(', ')} order by s._seq) as n,
         exists (select 1 from ${dataTable(this.#tableId)} d where ${matches('d')} and d._v_max = ${MAX_VERSION}) as existing
       from ${this.#staging} s) z where n > 1 or existing order by _seq limit $1`, [limit])
    return r.rows.map((x) => ({
      line: Number(x.line),
      code: 'CONSTRAINT_VIOLATION' as const,
      error: `duplicate primary key (${names.join(', ')})=(${x.key}): ${x.existing ? `'${this.#ctx.state(this.#tableId).path}' already has a row with this key` : 'an earlier row of the input has this key'}`,
    }))
  }

  /**
   * The input place of the first staged row a SQL-computed column fails on (a commit step failed with it), found by
   * halving _seq ranges with a query that evaluates the insert's select list without writing; undefined if none.
   */
  async firstFailingLine(): Promise<number | undefined> {
    this.#assertOpen()
    const params = new ParamList()
    const shape = insertShape(withOnErrorMd(this.#md, this.#onError), 0, params)
    if (shape.sqlPlans.length === 0) return undefined
    const a = `$${params.values.length + 1}::bigint`
    const b = `$${params.values.length + 2}::bigint`
    const sql = `select count(row(${shape.select.join(', ')})) as n from ${this.#staging} as x where x._seq >= ${a} and x._seq < ${b}`
    const fails = (lo: number, hi: number) => this.#ctx.db.query(sql, [...params.values, lo, hi]).then(() => false, () => true)
    let lo = 0
    let hi = this.#next
    if (!(await fails(lo, hi))) return undefined
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2)
      if (await fails(lo, mid)) hi = mid
      else lo = mid
    }
    const r = await this.#ctx.db.query<{ line: number }>(`select _line::float8 as line from ${this.#staging} where _seq = $1`, [lo])
    return r.rows[0] ? Number(r.rows[0].line) : undefined
  }

  /** Leaves the rows of these input places out of the load (skip mode). */
  async remove(lines: readonly number[]): Promise<void> {
    this.#assertOpen()
    if (lines.length > 0) await this.#ctx.db.query(`delete from ${this.#staging} where _line = any($1::bigint[])`, [lines])
  }

  /**
   * Inserts every staged row as ONE new version through the commit unit, in file order, and drops the staging
   * table. Computed columns in SQL are computed by the insert itself; views and indexes follow as for any insert.
   */
  async commit(): Promise<UpdateStatus> {
    this.#assertOpen()
    const total = this.#next
    const md = withOnErrorMd(this.#md, this.#onError)
    const { status } = await commitChange(this.#ctx, this.#tableId, {
      kind: 'insert',
      prepare: async (state, counts) => {
        // The staging table has the columns of the schema it was opened with: the insert must still have that shape.
        const now = insertShape(withOnErrorMd(state.md, this.#onError), 0, new ParamList())
        if (JSON.stringify([now.source, now.target, now.select]) !== JSON.stringify([this.#shape.source, this.#shape.target, this.#shape.select])) {
          throw new ConcurrencyError('CONCURRENCY_CONFLICT', `the columns of '${state.path}' changed during the import`, { table: state.path })
        }
        addCounts(counts, this.#counts)
      },
      rows: {
        count: () => total,
        write: async (tx, state, version, _p, counts, start, end) => {
          const params = new ParamList()
          const shape = insertShape(md, version, params)
          const r = await tx.query(
            `insert into ${dataTable(state.id)} (${shape.target.join(', ')}) select ${shape.select.join(', ')} from ${this.#staging} as x where x._seq >= ${params.param(start)}::bigint and x._seq < ${params.param(end)}::bigint order by x._seq`,
            params.values)
          counts.inserted += r.affectedRows
          counts.computed += r.affectedRows * shape.sqlPlans.length
        },
      },
    })
    await this.discard()
    return status
  }

  /** Drops the staging table; the table is unchanged unless commit() succeeded. Safe to call twice. */
  async discard(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#ctx.db.exec(`drop table if exists ${this.#staging}`).catch(() => undefined)
  }

  #assertOpen(): void {
    if (this.#closed) throw invalid('INVALID_ARGUMENT', 'this bulk load was already committed or discarded')
  }

  /**
   * A staging failure as a row-level error: COPY names the line of its payload (one row per line) and the column;
   * the parameterized form names neither, and the caller narrows the batch down.
   */
  #rowError(e: unknown): unknown {
    const state = this.#ctx.state(this.#tableId)
    const t = translateStoreError(e, { table: state.path, columnNames: columnNameMap(this.#md) })
    const where = typeof (e as { where?: unknown })?.where === 'string' ? (e as { where: string }).where : ''
    const m = /line (\d+)(?:, column (\w+))?/.exec(where)
    if (!m || !(t instanceof Error)) return t
    const column = m[2] ? columnNameMap(this.#md).get(m[2].replace(/_e[tm]$/, '')) : undefined
    const message = (t.message || String(e)).replace(/ in '[^']*'/, '')
    return invalid('INVALID_ROW', message, { row: Number(m[1]) - 1, ...(column ? { column } : {}) })
  }
}

function addCounts(into: WriteCounts, from: WriteCounts): void {
  into.computed += from.computed
  into.excs += from.excs
  for (const c of from.colsWithExcs) into.colsWithExcs.add(c)
}

type Cells = (i: number, out: unknown[]) => void

/** The values of row i in source-column order, as toStoreJson gives them (the jsonb form's values). */
function sourceCells(md: TableMd, source: readonly SourceColumn[], p: { valid: Row[]; ts: Map<number, { values: unknown[]; errors: ({ errortype: string; errormsg: string } | null)[] }>; mediaErrors?: readonly (Readonly<Record<string, { errortype: string; errormsg: string }>> | undefined)[] }): Cells {
  const byName = new Map(md.columns.map((c) => [valueColumn(c.id), c]))
  const readers = source.map((s) => {
    const m = /^c(\d+)(_et|_em)?$/.exec(s.name)!
    const column = byName.get(`c${m[1]}`)!
    const type = parseType(column.type)
    const part = m[2]
    if (column.computed) {
      const r = p.ts.get(column.id)!
      if (!part) return (i: number) => toStoreJson(type, r.values[i])
      return (i: number) => (part === '_et' ? r.errors[i]?.errortype : r.errors[i]?.errormsg) ?? null
    }
    if (part) return (i: number) => { const e = p.mediaErrors?.[i]?.[column.name]; return (part === '_et' ? e?.errortype : e?.errormsg) ?? null }
    const name = column.name
    return (i: number) => toStoreJson(type, p.valid[i]![name])
  })
  return (i, out) => {
    for (let k = 0; k < readers.length; k++) out[k] = readers[k]!(i)
  }
}

function jsonBatch(n: number, first: number, lines: readonly number[], source: readonly SourceColumn[], cells: Cells): string {
  const docs = new Array<Record<string, unknown>>(n)
  const out: unknown[] = new Array(source.length)
  for (let i = 0; i < n; i++) {
    cells(i, out)
    const doc: Record<string, unknown> = { _seq: first + i, _line: lines[i] }
    for (let k = 0; k < source.length; k++) if (out[k] !== null && out[k] !== undefined) doc[source[k]!.name] = out[k]
    docs[i] = doc
  }
  return JSON.stringify(docs)
}

/** One CSV line per row in COPY's CSV format: NULL is an unquoted empty field, text is always quoted (so '' stays ''). */
function csvBatch(n: number, first: number, lines: readonly number[], source: readonly SourceColumn[], cells: Cells): string {
  const encoders = source.map((c) => csvEncoder(c.pgType))
  const out: unknown[] = new Array(source.length)
  const parts: string[] = new Array(n)
  for (let i = 0; i < n; i++) {
    cells(i, out)
    let line = `${first + i},${lines[i]}`
    for (let k = 0; k < out.length; k++) {
      const v = out[k]
      line += v === null || v === undefined ? ',' : ',' + encoders[k]!(v)
    }
    parts[i] = line
  }
  return parts.join('\n') + '\n'
}

const quote = (s: string): string => `"${s.includes('"') ? s.replaceAll('"', '""') : s}"`

function csvEncoder(pgType: string): (v: unknown) => string {
  switch (pgType) {
    case 'bigint': case 'double precision': return (v) => String(v)
    case 'boolean': return (v) => (v ? 't' : 'f')
    case 'bytea': return (v) => String(v) // '\x…' hex: nothing to quote
    case 'jsonb': return (v) => quote(JSON.stringify(v))
    default:
      if (pgType.endsWith('[]')) return (v) => quote(arrayLiteral(v))
      return (v) => quote(String(v))
  }
}

/** A Postgres array literal of numbers or booleans (nested for multi-dimensional arrays). */
function arrayLiteral(v: unknown): string {
  if (!Array.isArray(v)) return String(v)
  return `{${v.map((e) => (Array.isArray(e) ? arrayLiteral(e) : e === null ? 'NULL' : typeof e === 'boolean' ? (e ? 't' : 'f') : String(e))).join(',')}}`
}
