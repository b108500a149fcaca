// The text of a record whose end has not arrived yet (a CSV/TSV record, a JSON Lines line, a JSON array element),
// and the bound on it. Upload bodies have no size limit, since they stream; a record is the one thing an import
// holds whole, so it is the thing bounded. Without the bound, a record whose end never comes (a CSV field whose
// opening quote is never closed takes in the rest of the input) was held however large, and failed only at the
// end of the input, after minutes and gigabytes.

/**
 * The longest record an import takes, in characters. Real rows are far below it: a long document's text, a base64
 * thumbnail or a vector written as text are well under 1 MiB. Holding one at the limit costs tens of MiB (its
 * pieces, then their join) and parsing it milliseconds, so a few imports at once stay affordable for the server.
 * Its own constant: the server's body limit (64 MiB by default) bounds whole non-import requests, and is the
 * server's, which io does not import.
 */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024

/**
 * A record went past the limit before it ended. Its end cannot be found without reading on and holding it, so the
 * import fails, in skip mode too: skipping it could swallow the rest of the input (all of it, for an unclosed quote).
 */
export class RecordTooLong extends Error {
  override readonly name = 'RecordTooLong'
  /**
   * `line`: where the record starts (1-based). `subject`: the record as the format calls it, its line named ('the
   * record starting on line 2', 'line 2'). `hint`: the likely cause, when the format can tell (still inside quotes).
   */
  constructor(readonly line: number, readonly limit: number, subject: string, hint?: string) {
    super(`${subject} is longer than ${limit} characters (the limit for one record)${hint ? `; ${hint}` : ''}`)
  }
}

/**
 * A record's text as the pieces its chunks brought, joined once when the record ends: the record is not copied
 * again with every chunk (a string grown by += per chunk is). Its owner checks `length` against the limit.
 */
export class PendingText {
  #parts: string[] = []
  #length = 0

  get length(): number {
    return this.#length
  }

  add(piece: string): void {
    if (piece.length === 0) return
    this.#parts.push(piece)
    this.#length += piece.length
  }

  clear(): void {
    if (this.#length === 0) return
    this.#parts = []
    this.#length = 0
  }

  /** The pieces, then `tail`, as one string; empties the pieces. */
  take(tail = ''): string {
    if (this.#parts.length === 0) return tail
    if (tail.length > 0) this.#parts.push(tail)
    const text = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('')
    this.#parts = []
    this.#length = 0
    return text
  }
}
