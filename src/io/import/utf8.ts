import { invalid } from '../../errors.ts'

// Import text must be UTF-8. A decoder that is not fatal turns bytes that are not (a Latin-1 'é', 0xE9) into U+FFFD
// without a word, so the stored text differed from the file's. This one refuses them, naming the line and the
// byte offset, as a document whose bytes are not UTF-8 is refused (src/types/text.ts). Lines are counted in bytes:
// a newline byte (0x0A) never occurs inside a UTF-8 character, so the count holds up to the first bad byte.

export class StrictUtf8Decoder {
  readonly #decoder = new TextDecoder('utf-8', { fatal: true })
  /** Bytes decoded before the current chunk. */
  #offset = 0
  /** The line the current chunk starts on (1-based). */
  #line = 1

  constructor(readonly name: string) {}

  /** The text of the next chunk (a character cut at its end waits for the next one); no chunk: the input ended. */
  decode(chunk?: Uint8Array): string {
    let text: string
    try {
      text = chunk ? this.#decoder.decode(chunk, { stream: true }) : this.#decoder.decode()
    } catch {
      throw this.#notUtf8(chunk)
    }
    if (chunk) {
      this.#line += countNewlines(chunk, chunk.length)
      this.#offset += chunk.length
    }
    return text
  }

  #notUtf8(chunk: Uint8Array | undefined): Error {
    // The bad byte's place in this chunk (a character begun in the chunk before and broken here counts from 0).
    const at = chunk ? firstInvalidByte(chunk) : 0
    const line = this.#line + (chunk ? countNewlines(chunk, at) : 0)
    const where = chunk ? `byte ${this.#offset + at}` : 'its end (a character cut short)'
    const what = chunk && at < chunk.length ? ` (0x${chunk[at]!.toString(16).padStart(2, '0').toUpperCase()})` : ''
    return invalid('INVALID_ARGUMENT', `${this.name}, line ${line}: not valid UTF-8 at ${where}${what}; import reads UTF-8 text only: convert the file (e.g. iconv -f latin1 -t utf-8)`, { file: this.name, line, byte: this.#offset + at })
  }
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0
  for (let i = bytes.indexOf(10); i >= 0 && i < end; i = bytes.indexOf(10, i + 1)) n++
  return n
}

/**
 * The index of the first byte that starts no valid UTF-8 character, or bytes.length when a character is cut at the
 * end. Leading continuation bytes are skipped (the end of a character begun in the chunk before).
 */
export function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length && i < 3 && (bytes[i]! & 0xc0) === 0x80) i++
  while (i < bytes.length) {
    const b = bytes[i]!
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (len === 0) return i
    for (let k = 1; k < len && i + k < bytes.length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i
    if (i + len > bytes.length) return bytes.length
    // Overlong forms, surrogates and code points past U+10FFFF.
    const b1 = bytes[i + 1]!
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return i
    i += len
  }
  return bytes.length
}
