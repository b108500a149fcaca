import { invalid } from '../../errors.ts'
import type { ByteInput } from './bytes.ts'
import { counted } from './bytes.ts'
import { CsvRecords } from './csv-records.ts'
import type { CsvRecord } from './csv-records.ts'
import type { RecordSource, SourceRecord } from './source.ts'

// CSV and TSV, parsed chunk by chunk (csv-records.ts): records with the line each ends on. The first record is the
// header. Structural problems (a bad quote, a wrong field count) become bad records, so skip mode can report them and
// go on; in abort mode the first one ends the input.

export interface CsvOptions {
  readonly delimiter?: string
  /** Keep going after a record that cannot be read (skip mode). */
  readonly skipBad?: boolean
}

export async function csvSource(input: ByteInput, options: CsvOptions = {}): Promise<RecordSource> {
  const { chunks, bytesRead } = counted(input)
  const parser = new CsvRecords(options.delimiter ?? ',')
  /** Parsed records, a chunk's worth at a time (one await per chunk, not per record). */
  async function* parsed(): AsyncGenerator<CsvRecord> {
    const decoder = new TextDecoder()
    for await (const chunk of chunks) yield* parser.feed(decoder.decode(chunk, { stream: true }))
    yield* parser.feed(decoder.decode(), true)
  }
  const it = parsed()[Symbol.asyncIterator]()

  let header: string[] | undefined
  async function* records(): AsyncGenerator<SourceRecord> {
    // The header is read here, not before: a later line of the same chunk may be unreadable, and that error should
    // name its line rather than look like a header problem.
    for (;;) {
      const first = await it.next()
      if (first.done) {
        header = []
        return
      }
      const r = first.value
      if ('error' in r) {
        yield { loc: r.line, error: r.error, ...(r.raw !== undefined ? { raw: r.raw } : {}) }
        return
      }
      if (r.fields.length === 1 && !r.fields[0]) continue // blank lines before the header
      header = r.fields.map((h, i) => h?.trim() || `column_${i + 1}`)
      break
    }
    const seen = new Set<string>()
    for (const h of header) {
      if (seen.has(h)) throw invalid('INVALID_ARGUMENT', `${input.name}, line 1: column '${h}' appears twice in the header`, { file: input.name, line: 1, column: h })
      seen.add(h)
    }
    const cols = header
    for (;;) {
      const next = await it.next()
      if (next.done) return
      const r = next.value
      if ('error' in r) {
        yield { loc: r.line, error: r.error, ...(r.raw !== undefined ? { raw: r.raw } : {}) }
        if (options.skipBad) continue
        return
      }
      const record = r.fields
      if (record.length === 1 && record[0] === null && cols.length > 1) continue // a blank line
      if (record.length !== cols.length) {
        yield { loc: r.line, error: `has ${record.length} fields, the header has ${cols.length}`, raw: record.join(options.delimiter ?? ',') }
        continue
      }
      const values: Record<string, unknown> = {}
      for (let i = 0; i < cols.length; i++) values[cols[i]!] = record[i]
      yield { loc: r.line, values }
    }
  }

  return {
    name: input.name, unit: 'line', text: true, records: records(), bytesRead,
    get columns() {
      return header
    }, ...(input.size !== undefined ? { totalBytes: input.size } : {}),
  }
}
