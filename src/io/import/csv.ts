import { parse } from 'csv-parse'
import type { CsvError } from 'csv-parse'
import { pipeline, Readable } from 'node:stream'
import { invalid } from '../../errors.ts'
import type { ByteInput } from './bytes.ts'
import { counted } from './bytes.ts'
import type { RecordSource, SourceRecord } from './source.ts'

// CSV and TSV through csv-parse's streaming parser: one record at a time, with the line it ends on (the parser's
// own count, appended to each record by on_record). The first record is the header. Structural problems (a bad quote, a wrong field count) become bad records, so skip mode can
// report them and go on; csv-parse can resynchronise after a bad record only when told to skip them.

export interface CsvOptions {
  readonly delimiter?: string
  /** Keep going after a record csv-parse cannot read (skip mode). */
  readonly skipBad?: boolean
}

export async function csvSource(input: ByteInput, options: CsvOptions = {}): Promise<RecordSource> {
  const { chunks, bytesRead } = counted(input)
  const skipped: SourceRecord[] = []
  /** Record number (as csv-parse counts them: read records, header included) → the line it ends on. */
  const endLines = new Map<number, number>()
  const parser = parse({
    delimiter: options.delimiter ?? ',',
    relax_column_count: true,
    bom: true,
    // As in Postgres COPY: an unquoted empty field is NULL, a quoted one ("") the empty string. The context csv-parse
    // builds for this callback also says which record the field belongs to and the line it reached: the last field
    // of a record leaves the line the record ends on (info: true or on_record would build one more object per
    // record, measured slower; re-scanning fields for line breaks cost ~0.5 s per 1M rows).
    cast: (value, ctx) => {
      endLines.set(ctx.records, ctx.lines)
      return (value === '' && !ctx.quoting && !ctx.header ? null : value) as string
    },
    ...(options.skipBad ? { skip_records_with_error: true } : {}),
  })
  // Skip events fire while csv-parse reads ahead, so they are queued and yielded in line order below.
  parser.on('skip', (e: CsvError & { lines?: number }) => {
    skipped.push({ loc: e.lines ?? 0, error: e.message, ...(typeof e.record === 'string' ? { raw: e.record } : {}) })
  })
  pipeline(Readable.from(chunks), parser, () => undefined)
  const it = (parser as AsyncIterable<(string | null)[]>)[Symbol.asyncIterator]()
  let lastLine = 0
  let read = 0
  /** The line the next record read ends on. */
  const lineOf = (): number => {
    lastLine = endLines.get(read) ?? lastLine + 1
    endLines.delete(read++)
    return lastLine
  }

  let header: string[] | undefined
  async function* records(): AsyncGenerator<SourceRecord> {
    // The header is read here, not before: csv-parse may fail on a later line of the same chunk, and that error
    // should name its line rather than look like a header problem.
    for (;;) {
      let first: IteratorResult<(string | null)[]>
      try {
        first = await it.next()
      } catch (e) {
        const err = e as CsvError & { lines?: number }
        yield { loc: err.lines ?? 1, error: err.message }
        return
      }
      if (first.done) {
        header = []
        return
      }
      lineOf()
      if (first.value.length === 1 && !first.value[0]) continue // blank lines before the header
      header = first.value.map((h, i) => h?.trim() || `column_${i + 1}`)
      break
    }
    const seen = new Set<string>()
    for (const h of header) {
      if (seen.has(h)) throw invalid('INVALID_ARGUMENT', `${input.name}, line 1: column '${h}' appears twice in the header`, { file: input.name, line: 1, column: h })
      seen.add(h)
    }
    const cols = header
    for (;;) {
      let next: IteratorResult<(string | null)[]>
      try {
        next = await it.next()
      } catch (e) {
        yield* skipped.splice(0)
        const err = e as CsvError & { lines?: number }
        yield { loc: err.lines ?? lastLine + 1, error: err.message }
        return
      }
      if (next.done) {
        yield* skipped.splice(0)
        return
      }
      const record = next.value
      const line = lineOf()
      // A skipped record took line(s) before this one.
      while (skipped.length > 0 && skipped[0]!.loc < line) yield skipped.shift()!
      if (record.length === 1 && record[0] === null && cols.length > 1) continue // a blank line
      if (record.length !== cols.length) {
        yield { loc: line, error: `has ${record.length} fields, the header has ${cols.length}`, raw: record.join(options.delimiter ?? ',') }
        continue
      }
      const values: Record<string, unknown> = {}
      for (let i = 0; i < cols.length; i++) values[cols[i]!] = record[i]
      yield { loc: line, values }
    }
  }

  return {
    name: input.name, unit: 'line', text: true, records: records(), bytesRead,
    get columns() {
      return header
    }, ...(input.size !== undefined ? { totalBytes: input.size } : {}),
  }
}
