import type { ByteInput } from './bytes.ts'
import { counted } from './bytes.ts'
import type { RecordSource, SourceRecord } from './source.ts'

// JSON Lines (one object per line) and JSON arrays of objects, both streamed: the array form is split into its
// top-level elements by a small scanner that tracks strings and nesting, so each element is parsed on its own and
// the file is never held whole. A '.json' file whose first character is '{' is read as JSON Lines.

export function jsonSource(input: ByteInput): RecordSource {
  const { chunks, bytesRead } = counted(input)
  return { name: input.name, unit: 'line', text: false, batches: scan(chunks), bytesRead, ...(input.size !== undefined ? { totalBytes: input.size } : {}) }
}

function toRecord(loc: number, text: string): SourceRecord {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return { loc, error: `not valid JSON: ${(e as Error).message}`, raw: text.length > 200 ? text.slice(0, 200) + '…' : text }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { loc, error: 'expected a JSON object (one row)', raw: text.slice(0, 200) }
  return { loc, values: value as Record<string, unknown> }
}

/** The records of each chunk as one batch. */
async function* scan(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SourceRecord[]> {
  let out: SourceRecord[] = []
  const decoder = new TextDecoder()
  let mode: 'start' | 'lines' | 'array' = 'start'
  let line = 1
  // JSON Lines state
  let carry = ''
  // array state
  let depth = 0
  let inString = false
  let escaped = false
  let elem = ''
  let elemLine = 0

  for await (const chunk of chunks) {
    let text = decoder.decode(chunk, { stream: true })
    if (mode === 'start') {
      const i = text.search(/\S/)
      if (i < 0) {
        line += countLines(text, 0, text.length)
        continue
      }
      line += countLines(text, 0, i)
      if (text[i] === '[') {
        mode = 'array'
        text = text.slice(i + 1)
      } else {
        mode = 'lines'
        carry = '\n'.repeat(line - 1)
        line = 1
      }
    }
    if (mode === 'lines') {
      carry += text
      let start = 0
      for (let nl = carry.indexOf('\n'); nl >= 0; nl = carry.indexOf('\n', start)) {
        const s = carry.slice(start, nl).trim()
        if (s !== '') out.push(toRecord(line, s))
        line++
        start = nl + 1
      }
      carry = carry.slice(start)
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
          elem = ''
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
          out.push(toRecord(elemLine, elem + text.slice(start, i + 1)))
          elem = ''
          start = i + 1
        }
      } else if (depth === 0 && c !== 44 && c !== 32 && c !== 9 && c !== 10 && c !== 13) {
        out.push({ loc: line, error: `expected an object in the array, found '${text[i]}'` })
        yield out
        return
      }
    }
    if (depth > 0) elem += text.slice(start)
    if (out.length > 0) yield out
    out = []
  }
  if (mode === 'lines') {
    const s = (carry + decoder.decode()).trim()
    if (s !== '') yield [toRecord(line, s)]
  } else if (mode === 'array') {
    yield [{ loc: line, error: depth > 0 ? 'the file ends inside an object (truncated?)' : 'the file ends before the closing ]' }]
  }
}

function countLines(s: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++
  return n
}
