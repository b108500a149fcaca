import { MAX_RECORD_CHARS, PendingText, RecordTooLong } from './record-limit.ts'

// JSON Lines text → its non-blank lines with their line numbers, fed chunk by chunk. A line whose end has not
// arrived waits as pieces, joined once when its \n comes; each chunk is searched once. (Adding each chunk to the
// unfinished line and searching that again from its start made a long line quadratic: 40 MB took 10 s.) A line
// longer than the limit throws RecordTooLong as soon as a chunk takes it past the limit.

export interface JsonLine {
  /** 1-based. */
  readonly line: number
  /** The line without the whitespace around it. */
  readonly text: string
}

export class JsonLines {
  readonly #max: number
  readonly #pending = new PendingText()
  /** The line in progress (1-based). */
  #line: number

  /** `firstLine`: the number of the first line fed (the lines before it were read elsewhere). */
  constructor(firstLine = 1, maxRecordChars = MAX_RECORD_CHARS) {
    this.#line = firstLine
    this.#max = maxRecordChars
  }

  /** The lines complete in the text so far; `final`: the input ended, so the last line ends too. */
  feed(chunk: string, final = false): JsonLine[] {
    const out: JsonLine[] = []
    let start = 0
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      this.#bound(this.#pending.length + (nl - start))
      this.#add(out, this.#pending.take(chunk.slice(start, nl)))
      this.#line++
      start = nl + 1
    }
    if (final) {
      this.#bound(this.#pending.length + (chunk.length - start))
      this.#add(out, this.#pending.take(chunk.slice(start)))
    } else {
      this.#pending.add(chunk.slice(start))
      this.#bound(this.#pending.length)
    }
    return out
  }

  #add(out: JsonLine[], text: string): void {
    const trimmed = text.trim()
    if (trimmed !== '') out.push({ line: this.#line, text: trimmed })
  }

  #bound(length: number): void {
    if (length > this.#max) throw new RecordTooLong(this.#line, this.#max, `line ${this.#line}`)
  }
}
