import { closeSync, createWriteStream, existsSync, openSync, statSync, unlinkSync } from 'node:fs'
import type { WriteStream } from 'node:fs'
import type { Tessera, Table, BulkLoad, PreparedBatch } from '../../catalog/index.ts'
import { errorOf, invalid, isTesseraError, TesseraError } from '../../errors.ts'
import type { ErrorCode } from '../../errors.ts'
import type { ColumnConverter } from './convert.ts'
import { ConvertError, converter, showValue } from './convert.ts'
import { TypeSampler } from './infer.ts'
import { RecordTooLong } from './record-limit.ts'
import { badColumnName } from './names.ts'
import { assertMatchesTable } from './existing-table.ts'
import { inferredTypeHint, unsampledColumnHint } from './sample-hint.ts'
import { reportLine } from './show.ts'
import type { BadRecord, GoodRecord, RecordSource, SourceRecord } from './source.ts'
import { isBad, valuesOf } from './source.ts'
import { formatType, parseType } from '../../types/index.ts'

// The import loop shared by every format: sample → decide the schema (the table's, or inferred for a new table)
// → convert each record once (the converters check it as insert() would) → stage batches through the table's bulk
// load (src/catalog/data-table/staging.ts: COPY into a staging table, the next batch converted while the store copies this one)
// → one commit that inserts every staged row as ONE table version.
//
// All or nothing: nothing is visible before the final commit step, and a failure before it (abort mode, a bad row,
// an unreadable file, a cancelled signal, a key only the store sees as duplicate) discards the staging table; a
// table the import created is dropped. The input is read once (uploads cannot be re-read). Row-level failures
// name the input line: the converters name it for bad values; a batch the store refuses is narrowed down to its
// failing row (COPY says which); duplicate keys are looked up in the staging table.

export type OnBadRow = 'abort' | 'skip'

export interface ImportProgress {
  readonly rowsRead: number
  readonly rowsInserted: number
  readonly rowsSkipped: number
  readonly bytesRead: number
  readonly totalBytes?: number
}

export interface ImportProblem {
  readonly file: string
  readonly line?: number
  readonly row?: number
  readonly column?: string
  readonly error: string
}

export interface ImportRunOptions {
  /** Column types overriding the inferred ones (new tables), e.g. { photo: 'image', emb: 'array<float32>[3]' }. */
  readonly schema?: Readonly<Record<string, string>>
  /** Refuse a `schema` entry for a column the input does not have, instead of ignoring it (the CLI's --type). */
  readonly strictSchema?: boolean
  /** Create the table from the inferred schema when it does not exist (default true). */
  readonly createTable?: boolean
  readonly primaryKey?: string | readonly string[]
  /** Rows per staged batch (default 10,000); the whole import is one table version whatever the batch size. */
  readonly batchSize?: number
  /** Rows read before deciding the column types of a new table (default 1,000). */
  readonly sampleSize?: number
  /** 'abort' (default): the first bad row fails the import and nothing stays written. 'skip': bad rows are reported and left out. */
  readonly onBadRow?: OnBadRow
  /** JSON Lines file receiving each skipped row (skip mode): { file, line|row, column, error, record }. */
  readonly reportFile?: string
  /** Called after each batch is staged (rowsInserted counts staged rows until the final commit), and at the end. */
  readonly onProgress?: (p: ImportProgress) => void
  /** Relative media paths in the input resolve against this folder (importFile: the file's folder). */
  readonly baseDir?: string
  /** Cancels the import; what it wrote is undone as for a failure. */
  readonly signal?: AbortSignal
}

export interface ImportResult {
  readonly table: string
  readonly created: boolean
  readonly schema: Record<string, string>
  readonly rowsRead: number
  readonly rowsInserted: number
  readonly rowsSkipped: number
  /** The table version this import committed (one, or none when nothing was imported). */
  readonly versions: readonly number[]
  /** The first 100 problems (skip mode); all of them are in reportFile. */
  readonly problems: readonly ImportProblem[]
  readonly reportFile?: string
}

const ROW_LEVEL_CODES = new Set(['INVALID_ROW', 'CONSTRAINT_VIOLATION', 'COMPUTATION_FAILED', 'INVALID_MEDIA'])

class BadRow extends Error {
  constructor(readonly loc: number, readonly column: string | undefined, message: string, readonly record?: unknown, readonly code: ErrorCode = 'INVALID_ROW') {
    super(message)
  }
}

export async function runImport(db: Tessera, tablePath: string, source: RecordSource, options: ImportRunOptions = {}): Promise<ImportResult> {
  const mode = options.onBadRow ?? 'abort'
  const batchSize = options.batchSize ?? 10_000
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalid('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`)
  // The report file is checked before anything is read or written: a report that cannot be written must not be
  // found out after the commit (the skipped rows would be lost, and running the import again would duplicate rows).
  if (options.reportFile !== undefined) assertWritable(options.reportFile)
  const it = source.batches[Symbol.asyncIterator]()
  const where = (loc: number) => `${source.name}, ${source.unit} ${loc}`

  /** What a failed import throws: the place in the input, what went wrong, then `outcome` (what became of the table). */
  function failure(e: unknown, outcome: string): TesseraError {
    if (e instanceof BadRow) {
      return invalid(e.code, `${where(e.loc)}${e.column ? `, column '${e.column}'` : ''}: ${e.message}; ${outcome}`, {
        file: source.name, [source.unit]: e.loc, ...(e.column ? { column: e.column } : {}),
      })
    }
    if (e instanceof RecordTooLong) return invalid('INVALID_ROW', `${where(e.line)}: ${e.message}; ${outcome}`, { file: source.name, [source.unit]: e.line, limit: e.limit })
    if (isTesseraError(e)) return errorOf(e.code, `${e.message}; ${outcome}`, { ...e.details, file: source.name }, { cause: e })
    if (isInputError(e)) return invalid('INVALID_ARGUMENT', `${source.name}: ${(e as Error).message}; ${outcome}`, { file: source.name })
    // Anything else is a bug in the import, not in the user's file: a 500 with the cause kept for the log.
    return errorOf('INTERNAL', `${source.name}: import failed: ${(e as Error)?.message ?? String(e)}; ${outcome}`, { file: source.name }, { cause: e })
  }

  // 1. sample (whole batches are read; the records after the sampled ones wait in `sample` for the main loop)
  const sample: SourceRecord[] = []
  const sampleSize = options.sampleSize ?? 1000
  if (!Number.isInteger(sampleSize) || sampleSize < 1) throw invalid('INVALID_ARGUMENT', `sampleSize must be a positive integer, got ${sampleSize}`)
  const sampler = new TypeSampler(source.text)
  const keys: string[] = []
  const seenIn = new Map<string, number>()
  let sampled = 0
  /** Records up to the last sampled one: what the sampling looked at. */
  let sampledUpTo = 0
  let exhausted = false
  try {
    while (sampled < sampleSize) {
      const n = await it.next()
      if (n.done) {
        exhausted = true
        break
      }
      for (const rec of n.value) {
        sample.push(rec)
        if (sampled >= sampleSize) continue
        sampledUpTo = sample.length
        if (isBad(rec)) continue
        sampled++
        const values = valuesOf(rec, source.columns)
        sampler.add(values)
        for (const k of Object.keys(values)) {
          if (!seenIn.has(k)) keys.push(k)
          seenIn.set(k, (seenIn.get(k) ?? 0) + 1)
        }
      }
    }
  } catch (e) {
    // Reading the input failed before anything was written (a record past the limit, an upload cut short): the
    // same errors as later on, rather than the reader's own, which the server would answer as its own bug (500).
    throw failure(e, 'nothing was imported')
  }

  /** The input place of the last sampled record: a record after it may not fit the types inferred from the sample. */
  const lastSampledLoc = sampledUpTo > 0 ? sample[sampledUpTo - 1]!.loc : 0
  const unreadable = sample.slice(0, sampledUpTo).find(isBad)
  if (unreadable && mode === 'abort') {
    throw invalid('INVALID_ROW', `${where(unreadable.loc)}: ${unreadable.error}; nothing was imported`, { file: source.name, [source.unit]: unreadable.loc })
  }

  // Formats with a header (CSV, Parquet) know their columns once the first record is read.
  const order: string[] = source.columns ? [...source.columns] : keys
  const declaredLater = declaredPastSample(source.columns !== undefined, exhausted, order, options.schema)
  // strictSchema (the CLI's --type): a type for a column the input does not have is a mistake (a typo, another
  // file's column), refused rather than ignored. A key the sample has not seen, in keyed records (JSON, JSON Lines)
  // longer than the sample, may still come: it is looked for in the rest of the input (unseenDeclared below).
  for (const [column, type] of Object.entries(options.strictSchema ? options.schema ?? {} : {})) {
    if (order.length > 0 && !order.includes(column) && !declaredLater.includes(column)) {
      throw noColumnForType(source.name, column, type, order)
    }
  }
  /** Declared keys past the sample that no record has had yet; under strictSchema one left at the end fails the import. */
  const unseenDeclared = new Set(declaredLater)

  // 2. the table
  const problems: ImportProblem[] = []
  let report: WriteStream | undefined
  /** A write of the report that failed (a full disk): the import fails before its commit. */
  let reportError: Error | undefined
  let rowsRead = 0
  let rowsInserted = 0
  let rowsSkipped = 0
  /** Converted rows: objects keyed by name, or cell arrays when the load takes cells (`cellsAt`). */
  let batch: unknown[] = []
  let locs: number[] = []
  let table: Table | undefined
  let created = false
  /** Columns whose type the sample decided (a table this import created, no type given or declared by the file). */
  let inferred: ReadonlySet<string> = new Set()
  // Looked up, then created: another import (or createTable) may create the table in between. Then this import goes
  // into that table, exactly as if it had run after the other one (its columns and types decide, and a mismatch fails
  // as an import into any existing table does); it only tries again if that table is gone again meanwhile.
  for (let attempt = 1; table === undefined; attempt++) {
    try {
      table = await db.getTable(tablePath)
      // Before its columns are compared with the file's: a view's mismatch was named first ("column 'name' is not in
      // 'app/short'"), then, once the file matched, that no row can go into a view.
      refuseReadOnlyTarget(table)
      break
    } catch (e) {
      if (!isTesseraError(e) || e.code !== 'TABLE_NOT_FOUND') throw e
      if (options.createTable === false) throw e
    }
    if (order.length === 0) throw invalid('INVALID_ARGUMENT', `${source.name}: no columns found (empty input?); cannot create '${tablePath}' from it`, { file: source.name })
    const goodSample = sample.filter((r): r is GoodRecord => !isBad(r)).map((r) => valuesOf(r, source.columns))
    const declared = source.typesFor?.(goodSample) ?? source.types
    const schema = declared
      ? Object.fromEntries(order.map((c) => [c, (options.schema && Object.hasOwn(options.schema, c) ? options.schema[c] : undefined) ?? (Object.hasOwn(declared, c) ? declared[c] : undefined) ?? 'json?']))
      : withDeclaredLater(sampler.schema(order, seenIn, sampled, options.schema), declaredLater, options.schema)
    try {
      table = await db.createTable(tablePath, schema, options.primaryKey === undefined ? {} : { primaryKey: options.primaryKey })
      created = true
      if (!declared) inferred = new Set(order.filter((c) => !(options.schema && Object.hasOwn(options.schema, c))))
    } catch (e) {
      if (isTesseraError(e) && e.code === 'INVALID_NAME' && typeof e.details?.name === 'string' && order.includes(e.details.name)) {
        throw badColumnName(source.name, source.columns ? 'header' : 'input', e.details.name, e.message, tablePath)
      }
      const keyColumn = isTesseraError(e) && e.code === 'INVALID_ARGUMENT' ? keyColumnOf(e, options.primaryKey) : undefined
      if (keyColumn !== undefined) throw keyProblem(keyColumn, schema[keyColumn])
      if (!isTesseraError(e) || e.code !== 'TABLE_ALREADY_EXISTS' || attempt >= 3) throw e
    }
  }
  const target = table
  if (!created) assertMatchesTable(target, source.name, options)

  /**
   * The primary key the table could not be created with, said of the input: the catalog's words ("primary key column
   * 'age' cannot be nullable ('int?')") named neither the file nor why the column was nullable, a record without a value.
   */
  function keyProblem(column: string, type: string | undefined): TesseraError {
    const outcome = `nothing was imported ('${tablePath}' was not created)`
    if (type === undefined) return invalid('INVALID_ARGUMENT', `${source.name} has no column '${column}' for the primary key (its columns: ${order.join(', ')}); ${outcome}`, { file: source.name, column })
    const empty = sample.slice(0, sampledUpTo).find((r) => !isBad(r) && isEmptyValue(valuesOf(r, source.columns)[column], source.text))
    const why = empty ? `${where(empty.loc)} has no value for it, so it was inferred nullable (${type})` : `its type is nullable (${type})`
    return invalid('INVALID_ARGUMENT', `${source.name}: the primary key column '${column}' needs a value in every record, but ${why}; ${outcome}`, { file: source.name, column, ...(empty ? { [source.unit]: empty.loc } : {}) })
  }
  // The declared keys past the sample are the table's columns (created with them, or checked to have them above):
  // records that have them convert them.
  for (const c of declaredLater) if (!order.includes(c)) order.push(c)
  const path = target.path // read once: after an undo drops a created table, the handle no longer answers
  const inputs = target.columns().filter((c) => !c.computedWith)
  const byName = new Map(inputs.map((c) => [c.name, c]))
  const converters = new Map<string, ColumnConverter>()
  let load: BulkLoad | undefined
  for (const name of order) {
    const c = byName.get(name)
    if (!c) {
      if (created) continue
      const computed = target.columns().some((x) => x.name === name)
      await undo()
      throw invalid('INVALID_ROW', `${source.name}: column '${name}' ${computed ? 'is a computed column of' : 'is not in'} '${path}'${computed ? ' and cannot be set' : `; its columns are: ${inputs.map((x) => x.name).join(', ')}`}`, { file: source.name, column: name })
    }
    converters.set(name, converter(name, c.type, source.text, options.baseDir))
  }
  if (source.columns) {
    for (const c of inputs) {
      if (!converters.has(c.name) && !c.type.endsWith('?')) {
        await undo()
        throw invalid('INVALID_ROW', `${source.name}: column '${c.name}' of '${path}' is required (type ${c.type}) but the input has no such column`, { file: source.name, column: c.name })
      }
    }
  }
  const convs = [...converters.values()]
  const declaredColumns = source.columns !== undefined && source.columns.every((c) => converters.has(c))
  // Columns of the table the input lacks are null (nullable ones; a required one missing fails the row).
  // A fields record (CSV) converts field i with the converter of the header's column i.
  const fieldConvs = declaredColumns ? source.columns!.map((c) => converters.get(c)!) : undefined
  const absent = inputs.filter((c) => !converters.has(c.name)).map((c) => converter(c.name, c.type, source.text, options.baseDir))
  const absentNames = new Set(absent.map((c) => c.name))
  /**
   * Where the load takes cell arrays (BulkLoad.cellColumns) and records are field arrays: per field, and per absent
   * column, its place in the row's cells. A CSV record then converts straight into the cells the binary COPY writes:
   * no row object keyed by name, no Date per timestamp (BENCHMARKS.md, issue 22 imp2).
   */
  let cellsAt: { readonly fields: Int32Array; readonly absent: Int32Array; readonly n: number } | undefined
  /** Whether a batch went to the load (a load opened before the first batch, for its cellColumns, may get none). */
  let used = false

  // 3. stream, convert, stage

  function problem(loc: number, column: string | undefined, error: string, record?: unknown): void {
    rowsSkipped++
    const p: ImportProblem = { file: source.name, [source.unit]: loc, ...(column ? { column } : {}), error }
    if (problems.length < 100) problems.push(p)
    if (options.reportFile) {
      if (!report) {
        report = createWriteStream(options.reportFile)
        report.on('error', (e) => { reportError ??= e })
      }
      report.write(reportLine(p, record) + '\n')
    }
  }

  function bad(loc: number, column: string | undefined, message: string, record?: unknown): void {
    if (column !== undefined && loc > lastSampledLoc && inferred.has(column)) message += inferredTypeHint(column, byName.get(column)?.type ?? '?', sampled)
    if (mode === 'abort') throw new BadRow(loc, column, message, record)
    problem(loc, column, message, record)
  }

  // Converted once: the values are what insert() would store, so the bulk load does not validate them again.
  function convert(r: GoodRecord): Record<string, unknown> | undefined {
    if ('fields' in r && fieldConvs) return convertFields(r.loc, r.fields)
    const values = valuesOf(r, source.columns)
    const row: Record<string, unknown> = {}
    // Inputs with declared columns (a CSV header, a Parquet schema) were checked against the table once, up front.
    if (!declaredColumns) for (const key in values) {
      if (!converters.has(key) && !absentNames.has(key)) {
        const hint = created && !source.columns && r.loc > lastSampledLoc ? unsampledColumnHint(key, sampled) : ''
        bad(r.loc, key, `unknown column '${key}'; '${path}' has: ${inputs.map((x) => x.name).join(', ')}${hint}`, values)
        return undefined
      }
    }
    if (unseenDeclared.size > 0) for (const key of unseenDeclared) if (Object.hasOwn(values, key)) unseenDeclared.delete(key)
    for (const conv of convs) {
      const raw = values[conv.name]
      try {
        row[conv.name] = conv.convert(raw)
      } catch (e) {
        if (!(e instanceof ConvertError)) throw e
        bad(r.loc, conv.name, `${e.message}, got ${showValue(raw)}`, values)
        return undefined
      }
    }
    return withAbsent(r, row, values)
  }

  /** A CSV record straight from its field array (the header's order): no object keyed by name before the row. */
  function convertFields(loc: number, fields: readonly unknown[]): Record<string, unknown> | undefined {
    const row: Record<string, unknown> = {}
    const n = fieldConvs!.length
    let i = 0
    try {
      for (; i < n; i++) {
        const conv = fieldConvs![i]!
        row[conv.name] = conv.convert(fields[i])
      }
    } catch (e) {
      if (!(e instanceof ConvertError)) throw e
      bad(loc, fieldConvs![i]!.name, `${e.message}, got ${showValue(fields[i])}`, valuesOf({ loc, fields }, source.columns))
      return undefined
    }
    return absent.length === 0 ? row : withAbsent({ loc, fields }, row)
  }

  /**
   * A record straight into the load's cells: a CSV record's fields, or a record keyed by name (a folder walk, whose
   * columns are declared too) read in the columns' order. The same conversions, in the same order, as convert().
   */
  function convertCells(rec: GoodRecord): unknown[] | undefined {
    const at = cellsAt!
    const fields = 'fields' in rec ? rec.fields : source.columns!.map((c) => rec.values[c])
    const cells = new Array<unknown>(at.n)
    const n = fieldConvs!.length
    let i = 0
    try {
      for (; i < n; i++) cells[at.fields[i]!] = fieldConvs![i]!.cell(fields[i])
    } catch (e) {
      if (!(e instanceof ConvertError)) throw e
      bad(rec.loc, fieldConvs![i]!.name, `${e.message}, got ${showValue(fields[i])}`, valuesOf(rec, source.columns))
      return undefined
    }
    for (let a = 0; a < absent.length; a++) {
      try {
        cells[at.absent[a]!] = absent[a]!.cell(undefined)
      } catch (e) {
        if (!(e instanceof ConvertError)) throw e
        bad(rec.loc, absent[a]!.name, e.message, valuesOf(rec, source.columns))
        return undefined
      }
    }
    return cells
  }

  /**
   * The table's columns the input's sample lacked: null, or the row fails when one is required — or, in a record keyed
   * by name (`values`: JSON), converted like any other when the record has the key (an existing table's column that
   * the sampled records did not show: it was refused as an unknown column the table has).
   */
  function withAbsent(r: GoodRecord, row: Record<string, unknown>, values?: Record<string, unknown>): Record<string, unknown> | undefined {
    for (const conv of absent) {
      try {
        row[conv.name] = conv.convert(values?.[conv.name])
      } catch (e) {
        if (!(e instanceof ConvertError)) throw e
        bad(r.loc, conv.name, e.message, valuesOf(r, source.columns))
        return undefined
      }
    }
    return row
  }

  /** Stages a batch; a row the store (or a media check, or a computed column) refuses is narrowed down and named. */
  async function stage(rows: unknown[], at: number[], ready?: Promise<PreparedBatch>): Promise<void> {
    if (rows.length === 0) return
    try {
      if (cellsAt) await load!.addCells(rows as unknown[][], ready)
      else await load!.add(rows as Record<string, unknown>[], at, ready)
      rowsInserted += rows.length
    } catch (e) {
      if (!isTesseraError(e) || !ROW_LEVEL_CODES.has(e.code)) throw e
      const i = typeof e.details?.row === 'number' ? e.details.row : undefined
      const column = typeof e.details?.column === 'string' ? e.details.column : undefined
      const msg = e.message.replace(/^row \d+(, column '[^']*')?(: |, )/, '')
      if (mode === 'abort') {
        if (i !== undefined && at[i] !== undefined) throw new BadRow(at[i]!, column, msg, undefined, e.code)
        if (rows.length === 1) throw new BadRow(at[0]!, column, msg, undefined, e.code)
      } else if (rows.length === 1) return problem(at[0]!, column, msg)
      if (i !== undefined && i < rows.length) {
        // The failing row is known: report it and stage the rest without it.
        if (mode === 'skip') problem(at[i]!, column, msg)
        await stage([...rows.slice(0, i), ...rows.slice(i + 1)], [...at.slice(0, i), ...at.slice(i + 1)])
        return
      }
      const half = rows.length >> 1
      await stage(rows.slice(0, half), at.slice(0, half))
      await stage(rows.slice(half), at.slice(half))
    }
  }

  const progress = () => options.onProgress?.({ rowsRead, rowsInserted, rowsSkipped, bytesRead: source.bytesRead(), ...(source.totalBytes !== undefined ? { totalBytes: source.totalBytes } : {}) })

  // One batch is staged while the next is converted: the store copies on its own thread (PGlite's worker).
  let inFlight: Promise<void> | undefined
  let storeBusy = false
  async function flush(): Promise<void> {
    if (batch.length === 0) return
    const rows = batch
    const at = locs
    batch = []
    locs = []
    load ??= await target.bulkLoad()
    used = true
    // Checked, computed and encoded while the store still copies the batch before.
    const ready = cellsAt ? load.prepareCells(rows as unknown[][]) : load.prepare(rows as Record<string, unknown>[])
    ready.catch(() => undefined) // its failure is add()'s, below
    if (inFlight) await inFlight
    // Progress is reported, not awaited: a direct load holds the table until it ends (staging.ts), so a callback that
    // waited for its own write to the same table would wait forever.
    storeBusy = true
    inFlight = stage(rows, at, ready).then(() => void Promise.resolve(progress() as unknown).catch(() => undefined))
    inFlight.catch(() => undefined).finally(() => (storeBusy = false)) // awaited at the next flush or at the end; never unhandled meanwhile
  }

  /** One source batch (a parsed chunk, a row group): awaits only to hand a full batch to the store, and to let the store's replies in. */
  async function handle(recs: readonly SourceRecord[]): Promise<void> {
    options.signal?.throwIfAborted()
    for (const rec of recs) {
      rowsRead++
      // Records come from memory a chunk at a time: while the store works on a batch, its replies (a COPY's end, the
      // statements around it) would wait for the next chunk's read. A turn of the event loop every few hundred
      // records lets the store's next step start while this thread converts.
      if ((rowsRead & 511) === 0 && storeBusy) await new Promise<void>((resolve) => setImmediate(resolve))
      if (isBad(rec)) {
        bad(rec.loc, undefined, rec.error, rec.raw)
        continue
      }
      const row = cellsAt ? convertCells(rec) : convert(rec)
      if (!row) continue
      batch.push(row)
      locs.push(rec.loc)
      if (batch.length >= batchSize) await flush()
    }
  }

  /** Keys only the store can see as duplicates (with existing rows, or between batches): named by line. */
  async function commit(): Promise<number[]> {
    if (!load || !used) {
      await load?.discard()
      return []
    }
    for (;;) {
      try {
        const st = await load.commit()
        rowsInserted = st.numInserted
        return st.numInserted > 0 ? [st.version] : []
      } catch (e) {
        if (!isTesseraError(e)) throw e
        if (e.code === 'CONSTRAINT_VIOLATION') {
          const dups = await load.duplicateKeys()
          if (dups.length === 0) throw e
          if (mode === 'abort') throw new BadRow(dups[0]!.line, undefined, dups[0]!.error, undefined, 'CONSTRAINT_VIOLATION')
          for (const d of dups) problem(d.line, undefined, d.error)
          await load.remove(dups.map((d) => d.line))
          continue
        }
        // A computed column that runs in SQL failed on some row: find it, name its line, and (skip) go on without it.
        if (e.code !== 'COMPUTATION_FAILED' && e.code !== 'INVALID_ARGUMENT') throw e
        const line = await load.firstFailingLine()
        if (line === undefined) throw e
        if (mode === 'abort') throw new BadRow(line, undefined, e.message, undefined, e.code)
        problem(line, undefined, e.message)
        await load.remove([line])
      }
    }
  }

  async function undo(): Promise<string> {
    await load?.discard()
    if (created) {
      await db.dropTable(path, { ifNotExists: 'ignore', force: true })
      return `nothing was imported ('${path}' was not created)`
    }
    return `nothing was imported ('${path}' is unchanged, at version ${target.version})`
  }

  let versions: number[]
  try {
    if (fieldConvs) {
      // Opened before the first record converts, to know whether records convert straight into its cells.
      load = await target.bulkLoad()
      const names = load.cellColumns
      const place = new Map(names?.map((name, k) => [name, k]))
      // Every cell is a converted field or an absent column's null: the load's columns are exactly the inputs.
      if (names && names.length === fieldConvs.length + absent.length && [...fieldConvs, ...absent].every((c) => place.has(c.name))) {
        cellsAt = {
          fields: Int32Array.from(fieldConvs, (c) => place.get(c.name)!),
          absent: Int32Array.from(absent, (c) => place.get(c.name)!),
          n: names.length,
        }
      }
    }
    await handle(sample)
    sample.length = 0
    if (!exhausted) {
      for (let n = await it.next(); !n.done; n = await it.next()) await handle(n.value)
    }
    await flush()
    if (inFlight) await inFlight
    options.signal?.throwIfAborted()
    const [missing] = options.strictSchema ? unseenDeclared : []
    if (missing !== undefined) throw noColumnForType(source.name, missing, options.schema![missing]!, order.filter((c) => !unseenDeclared.has(c)))
    if (report) await flushReport(report)
    if (reportError) throw invalid('INVALID_ARGUMENT', `cannot write the report file ${options.reportFile}: ${reportError.message}`)
    versions = await commit()
    if (load && used) progress()
  } catch (e) {
    const outcome = await undo()
    await closeReport(report).catch(() => undefined)
    throw failure(e, outcome)
  }
  await closeReport(report)
  return {
    table: path,
    created,
    schema: target.schema(),
    rowsRead,
    rowsInserted,
    rowsSkipped,
    versions,
    problems,
    ...(options.reportFile && report ? { reportFile: options.reportFile } : {}),
  }
}

/**
 * The keys `schema` declares that the sample has not seen, in keyed records (JSON, JSON Lines: no header lists the
 * columns) that go on past the sample: the user gave their type, so a key first appearing later is a column of the
 * table the import creates, not an unknown column. Empty when the sample read the whole input: a key it has not seen
 * then is in no record (refused under strictSchema, ignored otherwise, as before).
 */
function declaredPastSample(hasHeader: boolean, exhausted: boolean, sampledKeys: readonly string[], schema: Readonly<Record<string, string>> | undefined): string[] {
  if (hasHeader || exhausted || !schema) return []
  return Object.keys(schema).filter((k) => !sampledKeys.includes(k))
}

/** `schema` with the declared keys past the sample added, nullable: no sampled record has them. */
function withDeclaredLater(schema: Record<string, string>, later: readonly string[], declared: Readonly<Record<string, string>> | undefined): Record<string, string> {
  for (const name of later) schema[name] = formatType({ ...parseType(declared![name]!), nullable: true })
  return schema
}

/** The primary key column a catalog refusal names (details.column), when it is one of the import's key columns. */
function keyColumnOf(e: TesseraError, primaryKey: string | readonly string[] | undefined): string | undefined {
  const keys = primaryKey === undefined ? [] : typeof primaryKey === 'string' ? [primaryKey] : primaryKey
  const column = e.details?.column
  return typeof column === 'string' && keys.includes(column) ? column : undefined
}

/** A record's value that the import reads as null: missing, null, or (from text) an empty cell. */
const isEmptyValue = (x: unknown, text: boolean): boolean => x === undefined || x === null || (text && x === '')

function noColumnForType(file: string, column: string, type: string, columns: readonly string[]): TesseraError {
  return invalid('INVALID_ARGUMENT', `${file} has no column '${column}' to give the type '${type}' (its columns: ${columns.join(', ')}); nothing was imported`, { file, column, schema: true })
}

/** Fails (nothing imported) when the report file cannot be written: a missing folder, no permission, a folder. */
function assertWritable(file: string): void {
  try {
    if (existsSync(file) && statSync(file).isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' })
    const existed = existsSync(file)
    closeSync(openSync(file, 'a'))
    if (!existed) unlinkSync(file)
  } catch (e) {
    const code = (e as { code?: string }).code
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message
    throw invalid('INVALID_ARGUMENT', `cannot write the report file ${file}: ${why}; nothing was imported`, { reportFile: file })
  }
}

/** Waits until what was written to the report so far has reached the file (or failed: reportError says so). */
function flushReport(report: WriteStream): Promise<void> {
  if (report.errored || report.destroyed) return Promise.resolve()
  // Writes complete in order: the callback of an empty write runs once every earlier line is written.
  return new Promise((resolve) => { report.write('', () => resolve()) })
}

function closeReport(report: WriteStream | undefined): Promise<void> {
  if (!report) return Promise.resolve()
  return new Promise((resolve, reject) => report.end((e?: Error | null) => (e ? reject(e) : resolve())))
}

export type { BadRecord }

/** Errors the input causes: unparsable text (a CsvError, JSON's SyntaxError), a file that cannot be read. */
function isInputError(e: unknown): boolean {
  if (!(e instanceof Error)) return false
  const code = (e as { code?: unknown }).code
  return e instanceof SyntaxError || e.name === 'CsvError' || e.name === 'AbortError' || (typeof code === 'string' && (code.startsWith('CSV_') || /^E[A-Z]+$/.test(code)))
}

/** A view or snapshot takes no imported rows (a view's follow its base; a snapshot is a fixed version). */
function refuseReadOnlyTarget(table: Table): void {
  if (table.md.view) throw invalid('READ_ONLY', `'${table.path}' is a view: its rows follow its base table; import into the base instead`, { table: table.path })
  if (table.isReadOnly) throw invalid('READ_ONLY', `'${table.path}' is read-only (a snapshot or a past version); import into a table`, { table: table.path })
}
