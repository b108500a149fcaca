import { parse } from 'csv-parse'
import type { CsvError } from 'csv-parse'
import { pipeline, Readable } from 'node:stream'
import { invalid } from '../../errors.ts'
import type { ByteInput } from './bytes.ts'
import { counted } from './bytes.ts'
import type { RecordSource, SourceRecord } from './source.ts'

// CSV and TSV through csv-parse's streaming parser: one record at a time, with the line it ends on. The first
// record is the header. Structural problems (a bad quote, a wrong field count) become bad records, so skip mode can
// report them and go on; csv-parse can resynchronise after a bad record only when told to skip them.

export interface CsvOptions {
  readonly delimiter?: string
  /** Keep going after a record csv-parse cannot read (skip mode). */
  readonly skipBad?: boolean
}

export async function csvSource(input: ByteInput, options: CsvOptions = {}): Promise<RecordSource> {
  const { chunks, bytesRead } = counted(input)
  const skipped: SourceRecord[] = []
  const parser = parse({
    delimiter: options.delimiter ?? ',',
    // info: true would give line numbers but halves throughput; lines are counted here instead.
    relax_column_count: true,
    bom: true,
    // As in Postgres COPY: an unquoted empty field is NULL, a quoted one ("") the empty string.
    cast: (value, ctx) => (value === '' && !ctx.quoting && !ctx.header ? null : value) as string,
    ...(options.skipBad ? { skip_records_with_error: true } : {}),
  })
  let lastLine = 0
  parser.on('skip', (e: CsvError & { lines?: number }) => {
    skipped.push({ loc: e.lines ?? lastLine + 1, error: e.message, ...(typeof e.record === 'string' ? { raw: e.record } : {}) })
    if (e.lines) lastLine = e.lines
  })
  pipeline(Readable.from(chunks), parser, () => undefined)
  const it = (parser as AsyncIterable<string[]>)[Symbol.asyncIterator]()
  // The line a record ends on: one past the previous record's end, plus the line breaks inside quoted fields.
  const endLine = (record: (string | null)[]): number => {
    let line = lastLine + 1
    for (const f of record) if (f) for (let i = f.indexOf('\n'); i >= 0; i = f.indexOf('\n', i + 1)) line++
    lastLine = line
    return line
  }

  let first: IteratorResult<string[]>
  try {
    first = await it.next()
  } catch (e) {
    throw invalid('INVALID_ARGUMENT', `${input.name}: cannot read the CSV header: ${(e as Error).message}`, { file: input.name })
  }
  while (!first.done && first.value.length === 1 && !first.value[0]) {
    endLine(first.value)
    first = await it.next()
  }
  if (!first.done) endLine(first.value)
  const header = first.done ? [] : first.value.map((h, i) => h?.trim() || `column_${i + 1}`)
  const seen = new Set<string>()
  for (const h of header) {
    if (seen.has(h)) throw invalid('INVALID_ARGUMENT', `${input.name}, line 1: column '${h}' appears twice in the header`, { file: input.name, line: 1, column: h })
    seen.add(h)
  }

  async function* records(): AsyncGenerator<SourceRecord> {
    for (;;) {
      let next: IteratorResult<string[]>
      try {
        next = await it.next()
      } catch (e) {
        yield* skipped.splice(0)
        const err = e as CsvError & { lines?: number }
        yield { loc: err.lines ?? lastLine + 1, error: err.message }
        return
      }
      yield* skipped.splice(0)
      if (next.done) return
      const record = next.value
      const line = endLine(record)
      if (record.length === 1 && record[0] === null && header.length > 1) continue // a blank line
      if (record.length !== header.length) {
        yield { loc: line, error: `has ${record.length} fields, the header has ${header.length}`, raw: record.join(options.delimiter ?? ',') }
        continue
      }
      const values: Record<string, unknown> = {}
      for (let i = 0; i < header.length; i++) values[header[i]!] = record[i]
      yield { loc: line, values }
    }
  }

  return { name: input.name, unit: 'line', text: true, columns: header, records: records(), bytesRead, ...(input.size !== undefined ? { totalBytes: input.size } : {}) }
}
