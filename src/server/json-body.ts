import { invalid, isTesseraError } from '../errors.ts'
import { firstInvalidByte } from '../io/index.ts'

// Big JSON request bodies, read and parsed without holding the serving thread.
//
// One `await req.text()` + `JSON.parse` of a 64 MB insert body holds the thread for about a second on the 2-core
// machine (decoding ~5 ms/MB, parsing ~8–15 ms/MB): every /health probe and point read waits behind it. Here the body
// is read as it arrives, decoded and scanned a slice at a time (the scan checks nesting depth and notes where the
// top-level members, and the elements of big arrays one level down, start and end), and then parsed a group of
// elements at a time by the engine's own JSON.parse, with a turn of the event loop every ~1 MB of work. The result is
// the value JSON.parse would give: every piece is parsed by JSON.parse itself, each group must yield exactly the
// elements the scan counted, and a body whose shape the scan does not follow is parsed in one piece as before.

export interface SlicedParseOptions {
  /** Nesting beyond this is refused before anything is parsed. */
  readonly maxDepth: number
  /** Characters of work (decoding, scanning, parsing) between two turns of the event loop. */
  readonly yieldEveryChars?: number
  /** An array is parsed a group of elements at a time when its text is longer than this. */
  readonly splitArraysOver?: number
  /** Characters of elements parsed in one JSON.parse call (about). */
  readonly groupChars?: number
  /** Called when the first non-blank character arrives (the content-type check: nothing more is read if it throws). */
  readonly onContent?: () => void
}

const BLANK = (ch: number) => ch === 32 || ch === 10 || ch === 13 || ch === 9
const DECODE_SLICE_BYTES = 256 * 1024

/** An array one level below the top: where it opens, closes, and the commas between its elements. */
interface ArraySpan {
  readonly open: number
  close: number
  readonly commas: number[]
}

/**
 * What a request body that failed while it was read becomes: the client went away in the middle of its upload (Bun
 * fails the body's stream with a DOMException AbortError, "The connection was closed.") or the upload was otherwise
 * cut short. That is not a bug of the server: a 400 (as the import route answers), logged as any 4xx is, never the
 * 500 and "internal error" dump an unmapped reader error falls through to. The one place every body read maps its
 * stream's failure (parseJsonStream, the request layer's whole-body read, the body limit's collecting read); a
 * TesseraError (the body limit's TOO_LARGE) passes as it is.
 */
export function bodyReadFailed(e: unknown, nothingDone = 'nothing was done'): Error {
  if (isTesseraError(e)) return e
  const why = e instanceof Error ? e.message : String(e)
  return invalid('INVALID_ARGUMENT', `the request body was cut off before its end (${why}): the client closed the connection or the upload broke off; ${nothingDone}`)
}

/**
 * A decoder of request bodies that refuses bytes that are not UTF-8. A lenient one turned them into U+FFFD without a
 * word: a Latin-1 'é' inserted as '\uFFFD', the row stored differently from what was sent, where an import of the
 * same bytes is refused (src/io/import/utf8.ts). `decode` throws the request's 400 naming the first bad byte it can.
 */
export class BodyDecoder {
  readonly #decoder = new TextDecoder('utf-8', { fatal: true })
  /** Bytes decoded before the current chunk. */
  #offset = 0

  decode(chunk?: Uint8Array): string {
    try {
      const text = chunk ? this.#decoder.decode(chunk, { stream: true }) : this.#decoder.decode()
      this.#offset += chunk?.length ?? 0
      return text
    } catch {
      const at = chunk ? firstInvalidByte(chunk) : 0
      const where = chunk && at < chunk.length ? `at byte ${this.#offset + at} (0x${chunk[at]!.toString(16).padStart(2, '0').toUpperCase()})` : 'at its end (a character cut short)'
      throw invalid('INVALID_ARGUMENT', `request body is not valid UTF-8 ${where}: send JSON as UTF-8 text; nothing was done`)
    }
  }
}

/** Thrown inside the scan when the body nests too deep (turned into the request error by the caller). */
export class DepthExceeded extends Error {}

/**
 * The structure of a JSON text, fed a piece at a time: its depth, the top-level container's separators, and the arrays
 * directly inside it (an object's member values, a top-level array's elements) with their element separators.
 * Brackets and commas inside strings do not count.
 */
class ShapeScanner {
  #depth = 0
  #inString = false
  #escaped = false
  #offset = 0
  top: number | undefined // the first non-blank character's code: '{', '[' or a scalar's
  topOpen = -1
  topClose = -1
  readonly topCommas: number[] = []
  readonly topColons: number[] = []
  readonly arrays: ArraySpan[] = []
  #current: ArraySpan | undefined
  contentSeen = false

  constructor(readonly maxDepth: number) {}

  get length(): number {
    return this.#offset
  }

  feed(s: string): void {
    let depth = this.#depth
    let inString = this.#inString
    let escaped = this.#escaped
    const base = this.#offset
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i)
      if (inString) {
        if (escaped) escaped = false
        else if (ch === 92) escaped = true
        else if (ch === 34) inString = false
        continue
      }
      if (ch === 34) {
        inString = true
      } else if (ch === 123 || ch === 91) {
        depth++
        if (depth > this.maxDepth) throw new DepthExceeded()
        if (depth === 1) this.topOpen = base + i
        else if (depth === 2 && ch === 91 && this.top === 123) {
          this.#current = { open: base + i, close: -1, commas: [] }
          this.arrays.push(this.#current)
        }
      } else if (ch === 125 || ch === 93) {
        if (depth === 2 && this.#current) {
          this.#current.close = base + i
          this.#current = undefined
        } else if (depth === 1) this.topClose = base + i
        depth--
      } else if (ch === 44) {
        if (depth === 1) this.topCommas.push(base + i)
        else if (depth === 2 && this.#current) this.#current.commas.push(base + i)
      } else if (ch === 58 && depth === 1) {
        this.topColons.push(base + i)
      }
      if (this.top === undefined && !BLANK(ch)) this.top = ch
    }
    this.#depth = depth
    this.#inString = inString
    this.#escaped = escaped
    this.#offset = base + s.length
  }
}

/**
 * Whether JSON text nests arrays/objects deeper than `limit`: one pass over the characters (brackets inside strings
 * do not count), before JSON.parse, so a 5,000-deep body never reaches the parser or a recursive walk. The same scan
 * a big body gets while it arrives (parseJsonStream), over a small body's whole text.
 */
export function jsonTextNestsDeeper(text: string, limit: number): boolean {
  try {
    new ShapeScanner(limit).feed(text)
    return false
  } catch (e) {
    if (e instanceof DepthExceeded) return true
    throw e
  }
}

/** The decoded body as pieces, with a cursor for slicing ranges out of them in (mostly) increasing order. */
class Pieces {
  readonly list: string[] = []
  readonly starts: number[] = []
  #length = 0
  #cursor = 0

  push(s: string): void {
    if (s.length === 0) return
    this.list.push(s)
    this.starts.push(this.#length)
    this.#length += s.length
  }

  /** Characters [from, to) of the whole text. */
  slice(from: number, to: number): string {
    if (to <= from) return ''
    let k = this.#cursor
    if (k >= this.list.length || this.starts[k]! > from) k = 0
    while (k + 1 < this.list.length && this.starts[k + 1]! <= from) k++
    this.#cursor = k
    let out = ''
    for (let at = from; at < to; k++) {
      const piece = this.list[k]!
      const start = this.starts[k]!
      const end = Math.min(to, start + piece.length)
      out += piece.slice(at - start, end - start)
      at = end
    }
    return out
  }

  join(): string {
    return this.list.join('')
  }
}

/** Keeps count of work done and lets the event loop run every `every` characters of it. */
class Turns {
  #since = 0
  constructor(readonly every: number) {}

  async spent(chars: number): Promise<void> {
    this.#since += chars
    if (this.#since < this.every) return
    this.#since = 0
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}

const notJson = (message: string, at: number | undefined) =>
  invalid('INVALID_ARGUMENT', `request body is not valid JSON${at === undefined ? '' : ` (near character ${at})`}: ${message}`)

function parsePiece(text: string, at: number | undefined): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw notJson((e as Error).message, at)
  }
}

/**
 * Reads `body` to its end and parses it as JSON a slice at a time. Resolves to `undefined` for an empty (or blank)
 * body. Throws the request layer's INVALID_ARGUMENT for text that is not JSON or nests deeper than `maxDepth`.
 */
export async function parseJsonStream(body: ReadableStream<Uint8Array>, options: SlicedParseOptions): Promise<unknown> {
  const turns = new Turns(options.yieldEveryChars ?? 256 * 1024)
  const scanner = new ShapeScanner(options.maxDepth)
  const pieces = new Pieces()
  const decoder = new BodyDecoder()
  const take = async (s: string) => {
    if (s.length === 0) return
    if (!scanner.contentSeen && s.trim() !== '') {
      scanner.contentSeen = true
      options.onContent?.()
    }
    scanner.feed(s)
    pieces.push(s)
    await turns.spent(s.length)
  }
  const reader = body.getReader()
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((e: unknown) => { throw bodyReadFailed(e) })
      if (done) break
      // A body buffered whole (a chunked request the body limit collected) arrives as one chunk: decode it in slices.
      for (let at = 0; at < value.length; at += DECODE_SLICE_BYTES) {
        await take(decoder.decode(value.subarray(at, Math.min(value.length, at + DECODE_SLICE_BYTES))))
      }
    }
    await take(decoder.decode())
  } finally {
    reader.releaseLock()
  }
  if (!scanner.contentSeen) return undefined
  return assemble(scanner, pieces, turns, options)
}

async function assemble(scan: ShapeScanner, pieces: Pieces, turns: Turns, options: SlicedParseOptions): Promise<unknown> {
  const splitOver = options.splitArraysOver ?? 512 * 1024
  const whole = () => parsePiece(pieces.join(), undefined)
  // A scalar, a small body, or a text whose top level does not close where it ends: one JSON.parse, as before (it
  // gives the usual answer or the usual error).
  if (scan.length <= splitOver || scan.topOpen < 0 || scan.topClose < scan.topOpen) return whole()
  if (!isBlank(pieces, 0, scan.topOpen) || !isBlank(pieces, scan.topClose + 1, scan.length)) return whole()
  const groupChars = options.groupChars ?? 128 * 1024
  if (scan.top === 91) {
    return parseArray({ open: scan.topOpen, close: scan.topClose, commas: scan.topCommas }, pieces, turns, groupChars)
  }
  // An object: its members between the commas at depth 1; a member whose value is a big array is parsed in groups.
  const out: Record<string, unknown> = {}
  const bounds = [scan.topOpen, ...scan.topCommas, scan.topClose]
  if (bounds.length === 2 && isBlank(pieces, scan.topOpen + 1, scan.topClose)) return out
  let arrayAt = 0
  let colonAt = 0
  for (let m = 0; m + 1 < bounds.length; m++) {
    const from = bounds[m]! + 1
    const to = bounds[m + 1]!
    // The member's colon is the first one the scan saw at depth 1 after its start; `blank "key" blank` before it must
    // parse as a string (JSON.parse checks that), and a second colon lands in the value, where JSON.parse refuses it.
    while (colonAt < scan.topColons.length && scan.topColons[colonAt]! < from) colonAt++
    const colon = scan.topColons[colonAt]
    if (colon === undefined || colon >= to) return whole()
    const key = parsePiece(pieces.slice(from, colon), from)
    if (typeof key !== 'string') return whole()
    while (arrayAt < scan.arrays.length && scan.arrays[arrayAt]!.open < colon) arrayAt++
    const arr = scan.arrays[arrayAt]
    let value: unknown
    if (arr && arr.close < to && arr.close - arr.open > splitOver && isBlank(pieces, colon + 1, arr.open) && isBlank(pieces, arr.close + 1, to)) {
      value = await parseArray(arr, pieces, turns, groupChars)
    } else {
      value = parsePiece(pieces.slice(colon + 1, to), colon + 1)
      await turns.spent(to - from)
    }
    // Own data property, as JSON.parse makes it: a "__proto__" key must not set the prototype.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** An array's elements, parsed a group at a time; each group must give exactly the elements the scan counted. */
async function parseArray(arr: ArraySpan, pieces: Pieces, turns: Turns, groupChars: number): Promise<unknown[]> {
  const out: unknown[] = []
  const ends = [...arr.commas, arr.close]
  if (ends.length === 1 && isBlank(pieces, arr.open + 1, arr.close)) return out
  let first = 0 // the group's first element
  while (first < ends.length) {
    const from = first === 0 ? arr.open + 1 : ends[first - 1]! + 1
    let last = first
    while (last + 1 < ends.length && ends[last]! - from < groupChars) last++
    const to = ends[last]!
    const group = parsePiece(`[${pieces.slice(from, to)}]`, from) as unknown[]
    // `[1,,2]` split so that the empty element is a group of its own would parse as [] without this count.
    if (group.length !== last - first + 1) throw notJson('an array element is missing (two commas in a row, or a trailing comma)', from)
    for (const v of group) out.push(v)
    first = last + 1
    await turns.spent(to - from)
  }
  return out
}

function isBlank(pieces: Pieces, from: number, to: number): boolean {
  const s = pieces.slice(from, to)
  for (let i = 0; i < s.length; i++) if (!BLANK(s.charCodeAt(i))) return false
  return true
}
