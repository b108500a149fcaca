import type { ByteInput } from './bytes.ts'
import { counted } from './bytes.ts'
import { JsonLines } from './json-lines.ts'
import { StrictUtf8Decoder } from './utf8.ts'
import { MAX_RECORD_CHARS, PendingText, RecordTooLong } from './record-limit.ts'
import type { RecordSource, SourceRecord } from './source.ts'

// JSON Lines (one object per line, split by json-lines.ts) and JSON arrays of objects, both streamed: the array form
// is split into its top-level elements by a small scanner that tracks strings and nesting, so each element is
// parsed on its own and the file is never held whole. A '.json' file whose first character is '{' is read as JSON
// Lines. A line or an element is held until its end (as pieces, each character scanned once), up to
// maxRecordChars: a longer one fails the input with RecordTooLong.

export interface JsonOptions {
  /** The longest line or array element, in characters (default MAX_RECORD_CHARS). */
  readonly maxRecordChars?: number
}

export function jsonSource(input: ByteInput, options: JsonOptions = {}): RecordSource {
  const { chunks, bytesRead } = counted(input)
  const batches = scan(input.name, chunks, options.maxRecordChars ?? MAX_RECORD_CHARS)
  return { name: input.name, unit: 'line', text: false, batches, bytesRead, ...(input.size !== undefined ? { totalBytes: input.size } : {}) }
}

function toRecord(loc: number, text: string): SourceRecord {
  let value: unknown
  try {
    value = LONG_DIGITS.test(text) ? JSON.parse(text, exactIntegers) : JSON.parse(text)
  } catch (e) {
    return { loc, error: `not valid JSON: ${(e as Error).message}`, raw: text.length > 200 ? text.slice(0, 200) + '…' : text }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { loc, error: 'expected a JSON object (one row)', raw: text.slice(0, 200) }
  return { loc, values: value as Record<string, unknown> }
}

// JSON.parse rounds an integer literal beyond ±2^53 (9007199254740993 becomes ...992) without a word. Such a
// literal is kept as a BigInt instead, from its source text (JSON.parse's source text access, which Bun and current
// V8 pass to a reviver), so the import never stores a rounded number: inference makes its column a string of the
// exact digits, an int or json column refuses it naming the line, a float column takes the nearest float as it
// would for any number. Only a text with 16 digits in a row can hold such a literal, so the reviver (several times
// slower than a plain parse) runs only for those lines.
const LONG_DIGITS = /\d{16}/
const INTEGER_LITERAL = /^-?\d+$/

function exactIntegers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || Number.isSafeInteger(value) || !Number.isInteger(value)) return value
  const source = context?.source
  return source !== undefined && INTEGER_LITERAL.test(source) ? BigInt(source) : value
}

/** The records of each chunk as one batch. */
async function* scan(name: string, chunks: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<SourceRecord[]> {
  let out: SourceRecord[] = []
  const decoder = new StrictUtf8Decoder(name)
  let mode: 'start' | 'lines' | 'array' = 'start'
  let line = 1
  let lines: JsonLines | undefined
  // array state
  let depth = 0
  let inString = false
  let escaped = false
  /** The element in progress's text from earlier chunks. */
  const elem = new PendingText()
  let elemLine = 0
  /** Throws when the element in progress, `length` characters so far, is past the limit. */
  const bound = (length: number): void => {
    if (length > max) throw new RecordTooLong(elemLine, max, `the array element starting on line ${elemLine}`, inString ? 'it is still inside a string, so an unclosed quote (") is the likely cause' : undefined)
  }

  for await (const chunk of chunks) {
    let text = decoder.decode(chunk)
    if (mode === 'start') {
      const i = text.search(/\S/)
      if (i < 0) {
        line += countLines(text, 0, text.length)
        continue
      }
      if (text[i] === '[') {
        line += countLines(text, 0, i)
        mode = 'array'
        text = text.slice(i + 1)
      } else {
        // Fed from this chunk's start: its blank lines before the first record are counted there.
        mode = 'lines'
        lines = new JsonLines(line, max)
      }
    }
    if (lines) {
      for (const l of lines.feed(text)) out.push(toRecord(l.line, l.text))
      if (out.length > 0) yield out
      out = []
      continue
    }
    // array mode: find the top-level element boundaries in this piece of text
    let start = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 10) line++
      if (inString) {
        if (escaped) escaped = false
        else if (c === 92) escaped = true
        else if (c === 34) inString = false
        continue
      }
      if (c === 34) {
        if (depth === 0) {
          out.push({ loc: line, error: 'expected an object in the array, found a string' })
          yield out
          return
        }
        inString = true
      } else if (c === 123 || c === 91) {
        if (depth === 0) {
          elem.clear()
          start = i
          elemLine = line
        }
        depth++
      } else if (c === 125 || c === 93) {
        if (depth === 0 && c === 93) {
          if (/\S/.test(text.slice(i + 1))) out.push({ loc: line, error: 'unexpected text after the closing ]' })
          if (out.length > 0) yield out
          return
        }
        depth--
        if (depth === 0) {
          bound(elem.length + (i + 1 - start))
          out.push(toRecord(elemLine, elem.take(text.slice(start, i + 1))))
          start = i + 1
        }
      } else if (depth === 0 && c !== 44 && c !== 32 && c !== 9 && c !== 10 && c !== 13) {
        out.push({ loc: line, error: `expected an object in the array, found '${text[i]}'` })
        yield out
        return
      }
    }
    if (depth > 0) {
      elem.add(text.slice(start))
      bound(elem.length)
    }
    if (out.length > 0) yield out
    out = []
  }
  if (lines) {
    const last = lines.feed(decoder.decode(), true).map((l) => toRecord(l.line, l.text))
    if (last.length > 0) yield last
  } else if (mode === 'array') {
    yield [{ loc: line, error: depth > 0 ? 'the file ends inside an object (truncated?)' : 'the file ends before the closing ]' }]
  }
}

function countLines(s: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++
  return n
}
