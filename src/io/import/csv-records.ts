import { MAX_RECORD_CHARS, PendingText, RecordTooLong } from './record-limit.ts'

// CSV/TSV text → records, fed chunk by chunk. Written for imports because csv-parse cost more than PGlite's own
// COPY of the same file (200k rows: 1.3-3.3 s of parsing on a loaded 2-core machine against a 0.7-1.4 s COPY; its
// per-field cast callback, which gave nulls and line numbers, was a third of that; BENCHMARKS.md, issue 22 bulk).
// Same rules as before, as in Postgres COPY: an unquoted empty field is null, a quoted one ("") the empty string;
// "" inside quotes is one quote; records end at \n, \r\n or \r; a BOM at the start is dropped. A record that breaks
// the quoting rules is an error naming its line, and parsing resumes at the next line (skip mode reports it).
//
// Each character is scanned once: when a chunk ends inside a record, the scan's state (which part of a field it is
// in, the fields read, the text of the field and of the record so far, as pieces) waits for the next chunk, which
// goes on from there. (Scanning the unfinished record again from its start with every chunk made a long record
// quadratic: a 40 MB field took 15-75 s.) A record longer than maxRecordChars throws RecordTooLong as soon as a
// chunk takes it past the limit, rather than being held until an end that may never come.

export type CsvRecord =
  /** `line`: the line the record ends on (1-based; a quoted field may span lines); for an unclosed quote, where its record starts. */
  | { readonly fields: (string | null)[]; readonly line: number }
  | { readonly error: string; readonly line: number; readonly raw?: string }

export interface CsvRecordsOptions {
  /** The longest record, in characters (default MAX_RECORD_CHARS); a longer one throws RecordTooLong. */
  readonly maxRecordChars?: number
}

const QUOTE = 34
const LF = 10
const CR = 13

// Where the scan is. The states a chunk can end in are kept for the next one; END only passes within a chunk.
/** At the start of a field (of a record, when it has no field yet). */
const FIELD = 0
/** Inside an unquoted field. */
const UNQUOTED = 1
/** Inside a quoted field. */
const QUOTED = 2
/** Inside a quoted field, after a quote that ended the last chunk: a quote next makes "" (one quote), anything else closed the field. */
const QUOTE_END = 3
/** After a quoted field's closing quote: a delimiter, a line break or the end of the input must come next. */
const CLOSED = 4
/** The record broke the quoting rules: the rest of its line is passed over. */
const BAD = 5
/** A record ended with \r as the last chunk ended: a \n first in this chunk belongs to it. */
const AFTER_CR = 6
/** At the line break that ends the record. */
const END = 7

type State = typeof FIELD | typeof UNQUOTED | typeof QUOTED | typeof QUOTE_END | typeof CLOSED | typeof BAD | typeof AFTER_CR | typeof END

export class CsvRecords {
  readonly #delimiter: number
  readonly #max: number
  #state: State = FIELD
  /** The fields read so far of the record in progress. */
  #fields: (string | null)[] = []
  /** The field in progress's text from earlier chunks (a quoted field's with each "" already made one quote). */
  readonly #value = new PendingText()
  /** The record in progress's text from earlier chunks: what the limit bounds, and what an error record shows. */
  readonly #raw = new PendingText()
  /** In state BAD: what is wrong with the record. */
  #error = ''
  /** Lines ended so far (line breaks inside quotes included). */
  #line = 0
  /** Lines before the record in progress. */
  #startLine = 0
  /** The line the quoted field in progress opened on. */
  #quoteLine = 0
  #first = true

  constructor(delimiter = ',', options: CsvRecordsOptions = {}) {
    if (delimiter.length !== 1) throw new Error(`a CSV delimiter is one character, got ${JSON.stringify(delimiter)}`)
    this.#delimiter = delimiter.charCodeAt(0)
    this.#max = options.maxRecordChars ?? MAX_RECORD_CHARS
  }

  /** The records complete in the text so far; `final`: the input ended, so a record cut short is one too. */
  feed(chunk: string, final = false): CsvRecord[] {
    let s = chunk
    if (this.#first && s.length > 0) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1)
      this.#first = false
    }
    const out: CsvRecord[] = []
    const d = this.#delimiter
    const value = this.#value
    const raw = this.#raw
    const n = s.length
    let state = this.#state
    let line = this.#line
    let startLine = this.#startLine
    let fields = this.#fields
    let error = this.#error
    let p = 0
    if (state === AFTER_CR && (n > 0 || final)) {
      if (n > 0 && s.charCodeAt(0) === LF) p = 1
      state = FIELD
    }
    /** Where the record in progress starts in s (0 when it began in an earlier chunk: that text is in #raw). */
    let start = p
    /** Where the field in progress's text starts in s (a quoted field's: since its last ""). */
    let from = p
    /**
     * The first \n in s at or after the quoted text last counted, -1 when there is none: each search starts where the
     * last one ended, so the quoted fields of a long record do not each search on to the record's end.
     */
    let nl = -2
    scan: for (;;) {
      switch (state) {
        case FIELD: {
          if (p >= n) break scan
          from = p
          if (s.charCodeAt(p) === QUOTE) {
            from = ++p
            this.#quoteLine = line + 1
            state = QUOTED
          } else state = UNQUOTED
          continue
        }
        case UNQUOTED: {
          let c = -1
          while (p < n) {
            c = s.charCodeAt(p)
            if (c === d || c === LF || c === CR || c === QUOTE) break
            p++
          }
          if (p >= n) break scan
          if (c === QUOTE) {
            error = `Invalid Opening Quote: a quote is found on field ${fields.length} at line ${line + 1}, value is ${JSON.stringify(value.take(s.slice(from, p)))}`
            state = BAD
            continue
          }
          fields.push(value.length === 0 && from === p ? null : value.take(s.slice(from, p)))
          if (c === d) {
            p++
            state = FIELD
          } else state = END
          continue
        }
        case QUOTED: {
          const close = s.indexOf('"', p)
          // The line breaks inside the quotes, up to this quote.
          const to = close < 0 ? n : close
          if (nl !== -1 && nl < p) nl = s.indexOf('\n', p)
          while (nl !== -1 && nl < to) {
            line++
            nl = s.indexOf('\n', nl + 1)
          }
          if (close < 0) {
            p = n
            break scan
          }
          if (close + 1 >= n) {
            // Whether this quote closes the field or starts a "" is known with the next chunk.
            value.add(s.slice(from, close))
            p = from = n
            state = QUOTE_END
            break scan
          }
          if (s.charCodeAt(close + 1) === QUOTE) {
            value.add(s.slice(from, close + 1))
            p = from = close + 2
            continue
          }
          fields.push(value.take(s.slice(from, close)))
          p = close + 1
          state = CLOSED
          continue
        }
        case QUOTE_END: {
          if (p >= n) break scan
          if (s.charCodeAt(p) === QUOTE) {
            value.add('"')
            from = ++p
            state = QUOTED
            continue
          }
          fields.push(value.take())
          state = CLOSED
          continue
        }
        case CLOSED: {
          if (p >= n) break scan
          const c = s.charCodeAt(p)
          if (c === d) {
            p++
            state = FIELD
          } else if (c === LF || c === CR) state = END
          else {
            // A quote closed inside a field: the record is unreadable; go on at the next line.
            error = `Invalid Closing Quote: got "${s[p]}" at line ${line + 1} instead of delimiter, record delimiter, trimable character (if activated) or comment`
            state = BAD
          }
          continue
        }
        case BAD: {
          while (p < n) {
            const c = s.charCodeAt(p)
            if (c === LF || c === CR) break
            p++
          }
          if (p >= n) break scan
          state = END
          continue
        }
        case END: {
          line++
          this.#bound(raw.length + (p - start), startLine, END)
          if (error) {
            out.push({ error, line, raw: trimEnd(raw.take(s.slice(start, p))) })
            error = ''
          } else {
            out.push({ fields, line })
            raw.clear()
          }
          fields = []
          startLine = line
          if (s.charCodeAt(p++) === CR) {
            if (p < n) {
              if (s.charCodeAt(p) === LF) p++
            } else if (!final) {
              start = p
              state = AFTER_CR
              break scan
            }
          }
          start = p
          state = FIELD
          continue
        }
        case AFTER_CR:
          break scan
      }
    }
    if (!final) {
      // The record in progress waits for the next chunk, as pieces.
      if (state === UNQUOTED || state === QUOTED) value.add(s.slice(from, n))
      raw.add(s.slice(start, n))
      this.#bound(raw.length, startLine, state)
    } else if (state !== AFTER_CR && (state !== FIELD || fields.length > 0)) {
      // The input ended: so does the record in progress.
      this.#bound(raw.length + (n - start), startLine, state)
      if (state === QUOTED) {
        // Named by the line it starts on: where it ends (the input's last line) says nothing about the quote.
        out.push({ error: `Quote Not Closed: the parsing is finished with an opening quote at line ${startLine + 1}`, line: startLine + 1 })
      } else {
        if (state === FIELD) fields.push(null)
        else if (state === UNQUOTED) fields.push(value.length === 0 && from === n ? null : value.take(s.slice(from, n)))
        else if (state === QUOTE_END) fields.push(value.take())
        line++
        out.push(state === BAD ? { error, line, raw: trimEnd(raw.take(s.slice(start, n))) } : { fields, line })
      }
      raw.clear()
      value.clear()
      fields = []
      error = ''
      startLine = line
      state = FIELD
    }
    this.#state = state
    this.#line = line
    this.#startLine = startLine
    this.#fields = fields
    this.#error = error
    return out
  }

  /** Throws when the record starting after `startLine`, `length` characters so far, is past the limit. */
  #bound(length: number, startLine: number, state: State): void {
    if (length <= this.#max) return
    const inQuotes = state === QUOTED || state === QUOTE_END
    throw new RecordTooLong(startLine + 1, this.#max, `the record starting on line ${startLine + 1}`, inQuotes ? `it is still inside the quoted field opened on line ${this.#quoteLine}, so an unclosed quote (") is the likely cause` : undefined)
  }
}

const trimEnd = (s: string): string => s.replace(/[\r\n]+$/, '')
