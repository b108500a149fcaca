// Raw input values rendered for people: a short preview for an error message, and a skip report's record line.
// Both must work for whatever a reader hands over — a JSON cell nested 100,000 levels deep (JSON.parse accepts it,
// JSON.stringify then overflows the stack), a huge text, a cycle, Parquet's BigInts — because a renderer that
// throws turns a bad row the user can fix into an internal error without a line number.

/**
 * `x` in at most `max` characters (then '…'): JSON-like, numbers as JavaScript writes them (NaN, Infinity), BigInts
 * as digits. Work is bounded by `max`, not by the value: each level of nesting writes at least one character, so the
 * walk stops within `max` levels, and a long string is cut before it is quoted.
 */
export function showValue(x: unknown, max = 40): string {
  if (x === null || x === undefined) return String(x)
  if (typeof x === 'string') return JSON.stringify(cut(x, max))
  if (typeof x === 'bigint' || typeof x === 'number') return String(x)
  if (x instanceof Uint8Array) return `<${x.length} bytes>`
  const out = new Preview(max + 1)
  out.value(x, new Set())
  return out.text.length > max ? cutAt(out.text, max) + '…' : out.text
}

/** A text of at most `max` characters then '…', not split inside a surrogate pair. */
function cut(s: string, max: number): string {
  return s.length > max ? cutAt(s, max) + '…' : s
}

function cutAt(s: string, n: number): string {
  const c = s.charCodeAt(n - 1)
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n)
}

/** Appends pieces until `limit` characters are written, then ignores the rest (callers check `full` to stop walking). */
class Preview {
  text = ''
  constructor(readonly limit: number) {}

  get full(): boolean {
    return this.text.length >= this.limit
  }

  put(s: string): void {
    if (!this.full) this.text += s.length > this.limit - this.text.length ? s.slice(0, this.limit - this.text.length) : s
  }

  /** `path`: the objects being written around this one (a value inside itself is shown as [Circular]). */
  value(x: unknown, path: Set<object>): void {
    if (this.full) return
    if (x === null || x === undefined) return this.put('null')
    if (typeof x === 'string') return this.put(JSON.stringify(cut(x, this.limit - this.text.length)))
    if (typeof x === 'number') return this.put(String(x))
    if (typeof x === 'bigint') return this.put(JSON.stringify(String(x)))
    if (typeof x === 'boolean') return this.put(String(x))
    if (typeof x !== 'object') return this.put(JSON.stringify(String(x)))
    if (x instanceof Uint8Array) return this.put(JSON.stringify(`<${x.length} bytes>`))
    if (x instanceof Date) return this.put(JSON.stringify(Number.isNaN(x.getTime()) ? 'Invalid Date' : x.toISOString()))
    if (path.has(x)) return this.put('"[Circular]"')
    path.add(x)
    if (Array.isArray(x)) {
      this.put('[')
      for (let i = 0; i < x.length && !this.full; i++) {
        if (i > 0) this.put(',')
        this.value(x[i], path)
      }
      this.put(']')
    } else {
      this.put('{')
      let first = true
      for (const k in x) {
        if (this.full) break
        if (!Object.hasOwn(x, k)) continue
        const e = (x as Record<string, unknown>)[k]
        if (e === undefined || typeof e === 'function' || typeof e === 'symbol') continue
        if (!first) this.put(',')
        first = false
        this.put(JSON.stringify(cut(k, this.limit)) + ':')
        this.value(e, path)
      }
      this.put('}')
    }
    path.delete(x)
  }
}

/** JSON for a skip report: BigInts as numbers where exact (else digits), bytes as base64. */
function reportReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v)
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  return v
}

/** Characters of a report line's shortened value: enough to recognise the value, far below the record limit. */
const REPORT_PREVIEW = 1000

/**
 * One skip-report line: the problem, and the record as JSON so it can be fixed and imported again. A field JSON
 * cannot write (nested too deep for the stack, circular) is written as its preview text instead, and the line says
 * which fields those are, so the report never fails the import it describes.
 */
export function reportLine(problem: object, record: unknown): string {
  const whole = tryJson({ ...problem, ...(record !== undefined ? { record } : {}) })
  if (whole !== undefined) return whole
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return JSON.stringify({ ...problem, record: showValue(record, REPORT_PREVIEW), recordShortened: true })
  }
  const fields: Record<string, unknown> = Object.create(null)
  const shortened: string[] = []
  for (const [k, v] of Object.entries(record)) {
    if (tryJson(v) !== undefined) fields[k] = v
    else {
      fields[k] = showValue(v, REPORT_PREVIEW)
      shortened.push(k)
    }
  }
  return tryJson({ ...problem, record: fields, shortenedFields: shortened }) ?? JSON.stringify({ ...problem, record: showValue(record, REPORT_PREVIEW), recordShortened: true })
}

/**
 * Nesting past which a report writes a value shortened: far deeper than any storable JSON value (64 levels), far
 * shallower than what overflows JSON.stringify's stack. Checked first because an overflow costs seconds to unwind.
 */
const REPORT_DEPTH = 1000

/** Whether `x` nests deeper than `limit`, by a walk with its own stack (itself safe at any depth). */
function deeperThan(x: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[x, 0]]
  const seen = new Set<object>()
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue
    if (d >= limit) return true
    // Each object once: shared or circular parts are not walked again (JSON.stringify refuses a cycle by itself).
    if (seen.has(v)) continue
    seen.add(v)
    for (const e of Array.isArray(v) ? v : Object.values(v)) stack.push([e, d + 1])
  }
  return false
}

function tryJson(x: unknown): string | undefined {
  if (deeperThan(x, REPORT_DEPTH)) return undefined
  try {
    return JSON.stringify(x, reportReplacer)
  } catch {
    // RangeError (nesting deeper than the stack) or TypeError (a cycle): the caller writes a shortened form.
    return undefined
  }
}
