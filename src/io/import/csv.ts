import { invalid } from '../../errors.ts'
import type { ByteInput } from './bytes.ts'
import { counted } from './bytes.ts'
import { CsvRecords } from './csv-records.ts'
import { StrictUtf8Decoder } from './utf8.ts'
import type { CsvRecord } from './csv-records.ts'
import type { RecordSource, SourceRecord } from './source.ts'

// CSV and TSV, parsed chunk by chunk (csv-records.ts): records with the line each ends on. The first record is the
// header. Structural problems (a bad quote, a wrong field count) become bad records, so skip mode can report them and
// go on; in abort mode the first one ends the input. A record past the length limit throws (RecordTooLong): where it
// ends is unknown, so no mode can go on after it.

export interface CsvOptions {
  readonly delimiter?: string
  /** Keep going after a record that cannot be read (skip mode). */
  readonly skipBad?: boolean
  /** The longest record, in characters (default MAX_RECORD_CHARS); a longer one fails the input, skip mode too. */
  readonly maxRecordChars?: number
}

export async function csvSource(input: ByteInput, options: CsvOptions = {}): Promise<RecordSource> {
  const { chunks, bytesRead } = counted(input)
  const parser = new CsvRecords(options.delimiter ?? ',', { maxRecordChars: options.maxRecordChars })
  let header: string[] | undefined
  /** The input ended early (a bad record in abort mode, or before the header was read). */
  let stopped = false
  const seen = new Set<string>()

  /** One parsed chunk's records as import records (the header is taken from the first). */
  function toSource(parsed: readonly CsvRecord[]): SourceRecord[] {
    const out: SourceRecord[] = []
    for (const r of parsed) {
      if (stopped) break
      if ('error' in r) {
        out.push({ loc: r.line, error: r.error, ...(r.raw !== undefined ? { raw: r.raw } : {}) })
        // Before the header, or in abort mode, a record that cannot be read ends the input.
        if (header === undefined || !options.skipBad) stopped = true
        continue
      }
      if (header === undefined) {
        // The header is read here, not before: a later line of the same chunk may be unreadable, and that error
        // should name its line rather than look like a header problem.
        if (r.fields.length === 1 && !r.fields[0]) continue // blank lines before the header
        header = headerNames(r.fields)
        for (const h of header) {
          if (seen.has(h)) throw invalid('INVALID_ARGUMENT', `${input.name}, line 1: column '${h}' appears twice in the header`, { file: input.name, line: 1, column: h })
          seen.add(h)
        }
        continue
      }
      const cols = header
      const record = r.fields
      if (record.length === 1 && record[0] === null && cols.length > 1) continue // a blank line
      if (record.length !== cols.length) {
        out.push({ loc: r.line, error: `has ${record.length} fields, the header has ${cols.length}`, raw: record.join(options.delimiter ?? ',') })
        continue
      }
      out.push({ loc: r.line, fields: record })
    }
    return out
  }

  /** Parsed records, a chunk's worth at a time (one await per chunk, not per record). */
  async function* batches(): AsyncGenerator<SourceRecord[]> {
    const decoder = new StrictUtf8Decoder(input.name)
    for await (const chunk of chunks) {
      const out = toSource(parser.feed(decoder.decode(chunk)))
      if (out.length > 0) yield out
      if (stopped) return
    }
    const out = toSource(parser.feed(decoder.decode(), true))
    if (out.length > 0) yield out
    header ??= []
  }

  return {
    name: input.name, unit: 'line', text: true, batches: batches(), bytesRead,
    get columns() {
      return header
    }, ...(input.size !== undefined ? { totalBytes: input.size } : {}),
  }
}

/**
 * The header's names, trimmed; an empty one is named column_<position>, or column_<position>_2… where the header
 * has that name already (`column_2,` used to be refused as a name appearing twice, a name the user never wrote).
 */
export function headerNames(fields: readonly (string | null)[]): string[] {
  const given = fields.map((h) => h?.trim() ?? '')
  const taken = new Set(given)
  return given.map((h, i) => {
    if (h) return h
    let name = `column_${i + 1}`
    for (let k = 2; taken.has(name); k++) name = `column_${i + 1}_${k}`
    taken.add(name)
    return name
  })
}
