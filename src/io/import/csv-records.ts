// CSV/TSV text → records, fed chunk by chunk. Written for imports because csv-parse cost more than PGlite's own
// COPY of the same file (200k rows: 1.3-3.3 s of parsing on a loaded 2-core machine against a 0.7-1.4 s COPY; its
// per-field cast callback, which gave nulls and line numbers, was a third of that; BENCHMARKS.md, issue 22 bulk).
// Same rules as before, as in Postgres COPY: an unquoted empty field is null, a quoted one ("") the empty string;
// "" inside quotes is one quote; records end at \n, \r\n or \r; a BOM at the start is dropped. A record that breaks
// the quoting rules is an error naming its line, and parsing resumes at the next line (skip mode reports it).

export type CsvRecord =
  /** `line`: the line the record ends on (1-based; a quoted field may span lines). */
  | { readonly fields: (string | null)[]; readonly line: number }
  | { readonly error: string; readonly line: number; readonly raw?: string }

const QUOTE = 34
const LF = 10
const CR = 13

export class CsvRecords {
  readonly #delimiter: number
  /** Text not yet parsed: the start of a record whose end has not arrived. */
  #rest = ''
  /** Lines before #rest. */
  #line = 0
  #first = true

  constructor(delimiter = ',') {
    if (delimiter.length !== 1) throw new Error(`a CSV delimiter is one character, got ${JSON.stringify(delimiter)}`)
    this.#delimiter = delimiter.charCodeAt(0)
  }

  /** The records complete in the text so far; `final`: the input ended, so a record cut short is one too. */
  feed(chunk: string, final = false): CsvRecord[] {
    let s = this.#rest + chunk
    if (this.#first && s.length > 0) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1)
      this.#first = false
    }
    const out: CsvRecord[] = []
    const d = this.#delimiter
    const n = s.length
    let p = 0
    let line = this.#line
    /** Where the record being read starts, and the lines before it. */
    let start = 0
    let startLine = line
    let incomplete = false
    records: while (p < n) {
      start = p
      startLine = line
      const fields: (string | null)[] = []
      for (;;) {
        // One field from p.
        if (s.charCodeAt(p) === QUOTE) {
          let value = ''
          let from = p + 1
          let close: number
          for (;;) {
            close = s.indexOf('"', from)
            if (close < 0 || close + 1 >= n) {
              if (!final) { incomplete = true; break records } // the field (or what follows its quote) has not arrived yet
              if (close < 0) {
                out.push({ error: `Quote Not Closed: the parsing is finished with an opening quote at line ${startLine + 1}`, line: countLines(s, start, n, startLine) })
                p = n
                line = countLines(s, start, n, startLine)
                break records
              }
            }
            if (close + 1 < n && s.charCodeAt(close + 1) === QUOTE) {
              value += s.slice(from, close + 1)
              from = close + 2
              continue
            }
            break
          }
          value += s.slice(from, close)
          line = countLines(s, p, close, line)
          p = close + 1
          fields.push(value)
          const c = p < n ? s.charCodeAt(p) : -1
          if (c === d) {
            p++
            continue
          }
          if (c === LF || c === CR || c === -1) {
            p = endOfLine(s, p, n)
            if (p < 0) {
              if (!final) { incomplete = true; break records }
              p = n
            }
            line++
            out.push({ fields, line })
            continue records
          }
          // A quote closed inside a field: the record is unreadable; go on at the next line.
          const stop = nextLine(s, p, n)
          if (stop < 0 && !final) { incomplete = true; break records }
          const end = stop < 0 ? n : stop
          line++
          out.push({ error: `Invalid Closing Quote: got "${s[p]}" at line ${line} instead of delimiter, record delimiter, trimable character (if activated) or comment`, line, raw: trimEnd(s.slice(start, end)) })
          p = end
          continue records
        }
        // Unquoted: up to the delimiter or the end of the line.
        let q = p
        let c = -1
        while (q < n) {
          c = s.charCodeAt(q)
          if (c === d || c === LF || c === CR) break
          if (c === QUOTE) {
            const stop = nextLine(s, q, n)
            if (stop < 0 && !final) { incomplete = true; break records }
            const end = stop < 0 ? n : stop
            line++
            out.push({ error: `Invalid Opening Quote: a quote is found on field ${fields.length} at line ${line}, value is ${JSON.stringify(s.slice(p, q))}`, line, raw: trimEnd(s.slice(start, end)) })
            p = end
            continue records
          }
          q++
        }
        if (q >= n) {
          if (!final) { incomplete = true; break records }
          fields.push(q === p ? null : s.slice(p, q))
          line++
          out.push({ fields, line })
          p = n
          continue records
        }
        fields.push(q === p ? null : s.slice(p, q))
        if (c === d) {
          p = q + 1
          continue
        }
        p = endOfLine(s, q, n)
        if (p < 0) {
          if (!final) { incomplete = true; break records }
          p = n
        }
        line++
        out.push({ fields, line })
        continue records
      }
    }
    // A record whose end has not arrived waits for the next chunk, from its start.
    this.#rest = incomplete ? s.slice(start) : ''
    this.#line = incomplete ? startLine : line
    return out
  }
}

/** After a record's end at p (\n, \r\n or \r): the next record's start, or -1 when a \r ends the text so far. */
function endOfLine(s: string, p: number, n: number): number {
  const c = s.charCodeAt(p)
  if (c === LF) return p + 1
  if (p + 1 >= n) return -1 // \r then the chunk ends: a \n may follow
  return s.charCodeAt(p + 1) === LF ? p + 2 : p + 1
}

/** The start of the line after p, or -1 when the text so far ends first. */
function nextLine(s: string, p: number, n: number): number {
  for (let i = p; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === LF) return i + 1
    if (c === CR) return i + 1 < n && s.charCodeAt(i + 1) === LF ? i + 2 : i + 1
  }
  return -1
}

/** Line count after the text s[from, to), starting from `line`. */
function countLines(s: string, from: number, to: number, line: number): number {
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) line++
  return line
}

const trimEnd = (s: string): string => s.replace(/[\r\n]+$/, '')
