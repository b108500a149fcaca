import { MAX_RECORD_CHARS } from './record-limit.ts'

// An HTTP upload is spooled to a file before it is imported (src/server/upload-spool.ts), so a slow client never
// holds the table's writes; but then a record whose end never comes (an unclosed CSV quote) was read up to the whole
// upload before the import saw it. While it spools, the upload's text goes through this watch: quotes and line
// breaks found by a native search, no record built. Once a record is past the limit (with a margin, so that where
// the watch and the parser count a line break differently they still agree), the spool stops there and the import,
// reading what came, fails on that record by its line.

export interface RecordWatch {
  /** Feeds the next piece of text; true once a record is longer than the limit. */
  feed(text: string): boolean
}

/** Characters the watch lets a record run past the parser's limit before it stops the spool. */
const MARGIN = 1024

/** The watch for an upload of `format` (CSV/TSV: records between line breaks outside quotes; JSON Lines: lines). */
export function recordWatch(format: string, maxRecordChars = MAX_RECORD_CHARS): RecordWatch | undefined {
  const limit = maxRecordChars + MARGIN
  if (format === 'jsonl') {
    let length = 0
    return {
      feed(text) {
        const nl = text.lastIndexOf('\n')
        length = nl < 0 ? length + text.length : text.length - nl - 1
        return length > limit
      },
    }
  }
  if (format === 'csv' || format === 'tsv') {
    let length = 0
    let quoted = false
    const marks = /["\n\r]/g
    return {
      feed(text) {
        let start = 0
        marks.lastIndex = 0
        for (let m = marks.exec(text); m; m = marks.exec(text)) {
          if (m[0] === '"') quoted = !quoted
          else if (!quoted) {
            if (length + (m.index - start) > limit) return true
            length = 0
            start = m.index + 1
          }
        }
        length += text.length - start
        return length > limit
      },
    }
  }
  return undefined
}
