import { TesseraError } from '../../errors.ts'
import { civilDays } from '../../types/index.ts'

// COPY's binary format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"), written from the
// values an insert holds. PGlite runs Postgres' text input functions in WASM: a number, a boolean or a timestamp given
// as text costs it microseconds (timestamptz_in parses the date and looks up the zone), the binary receive functions
// next to nothing; float arrays measured ~40x faster that way (rows.ts), and an import's COPY in text spent most of
// its store time there (BENCHMARKS.md, issue 22). Each supported column type has a writer; a column type without one
// keeps the caller on COPY's CSV form.

/** Microseconds from the Unix epoch to Postgres' (2000-01-01 UTC), which binary timestamps count from. */
const PG_EPOCH_MS = 946_684_800_000
const PG_EPOCH_DAYS = 10_957
const TWO_32 = 4_294_967_296

export class CopyBinaryWriter {
  #buf: Uint8Array
  #view: DataView
  #at: number

  constructor(bytes = 1 << 16) {
    this.#buf = new Uint8Array(Math.max(64, bytes))
    this.#view = new DataView(this.#buf.buffer)
    // Signature, flags, header extension length.
    this.#buf.set([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00], 0)
    this.#at = 19
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#at
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): void {
    this.#room(2)
    this.#view.setInt16(this.#at, fields)
    this.#at += 2
  }

  null(): void {
    this.#room(4)
    this.#view.setInt32(this.#at, -1)
    this.#at += 4
  }

  int32(n: number): void {
    this.#room(8)
    this.#view.setInt32(this.#at, 4)
    this.#view.setInt32(this.#at + 4, n)
    this.#at += 8
  }

  /** A safe integer as int8 (two halves: no BigInt per value). */
  int64(n: number): void {
    this.#room(12)
    const hi = Math.floor(n / TWO_32)
    this.#view.setInt32(this.#at, 8)
    this.#view.setInt32(this.#at + 4, hi)
    this.#view.setUint32(this.#at + 8, n - hi * TWO_32)
    this.#at += 12
  }

  /**
   * n × 1000 as int8, exact for every integer |n| < 2^53 (a timestamp's milliseconds to Postgres' microseconds: the
   * product passes 2^53 after the year 2255, so it is formed from the halves of n).
   */
  int64Thousands(n: number): void {
    this.#room(12)
    const nHi = Math.floor(n / TWO_32)
    const lo = (n - nHi * TWO_32) * 1000 // < 2^42: exact
    const carry = Math.floor(lo / TWO_32)
    this.#view.setInt32(this.#at, 8)
    this.#view.setInt32(this.#at + 4, nHi * 1000 + carry)
    this.#view.setUint32(this.#at + 8, lo - carry * TWO_32)
    this.#at += 12
  }

  float64(x: number): void {
    this.#room(12)
    this.#view.setInt32(this.#at, 8)
    this.#view.setFloat64(this.#at + 4, x)
    this.#at += 12
  }

  bool(b: boolean): void {
    this.#room(5)
    this.#view.setInt32(this.#at, 1)
    this.#buf[this.#at + 4] = b ? 1 : 0
    this.#at += 5
  }

  /** UTF-8 text, after `prefix` bytes (jsonb's version byte). */
  text(s: string, prefix?: number): void {
    const extra = prefix === undefined ? 0 : 1
    this.#room(4 + extra + s.length * 3)
    const buf = this.#buf
    const start = this.#at + 4
    let at = start
    if (prefix !== undefined) buf[at++] = prefix
    // Short ASCII text (the common cell) is copied by hand: cheaper than a call into the encoder per cell.
    let i = 0
    const n = s.length
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      buf[at++] = c
    }
    if (i < n) at += encoder.encodeInto(s.slice(i), buf.subarray(at)).written
    this.#view.setInt32(this.#at, at - start)
    this.#at = at
  }

  bytes(b: Uint8Array): void {
    this.#room(4 + b.length)
    this.#view.setInt32(this.#at, b.length)
    this.#buf.set(b, this.#at + 4)
    this.#at += 4 + b.length
  }

  /** A one-dimensional or rectangular array of numbers (real or double precision), row-major; false for another shape. */
  floatArray(value: unknown, width: 4 | 8): boolean {
    const dims: number[] = []
    for (let v: unknown = value; Array.isArray(v) || ArrayBuffer.isView(v); v = (v as ArrayLike<unknown>)[0]) {
      const len = (v as ArrayLike<unknown>).length
      if (len === 0) return false
      dims.push(len)
    }
    if (dims.length === 0) return false
    const count = dims.reduce((a, b) => a * b, 1)
    const size = 12 + 8 * dims.length + count * (4 + width)
    this.#room(4 + size)
    const view = this.#view
    view.setInt32(this.#at, size)
    view.setInt32(this.#at + 4, dims.length)
    view.setInt32(this.#at + 8, 0)
    view.setInt32(this.#at + 12, width === 4 ? 700 : 701)
    let at = this.#at + 16
    for (const d of dims) {
      view.setInt32(at, d)
      view.setInt32(at + 4, 1)
      at += 8
    }
    const end = writeElements(view, at, value, dims, 0, width)
    if (end < 0) return false
    this.#at = end
    return true
  }

  /** The payload with its trailer; the writer is not to be used after. */
  finish(): Uint8Array {
    this.#room(2)
    this.#view.setInt16(this.#at, -1)
    return this.#buf.subarray(0, this.#at + 2)
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n))
    next.set(this.#buf.subarray(0, this.#at))
    this.#buf = next
    this.#view = new DataView(next.buffer)
  }
}

const encoder = new TextEncoder()

/**
 * Fills the lead fields every row of `payload` starts with (written as placeholders by the caller: an int8 at
 * `at[i]`, then an int4), once their values are known: a direct import's _rowid block and version.
 */
export function fillLeads(payload: Uint8Array, at: Int32Array, first: number, int4: number): void {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  for (let i = 0; i < at.length; i++) {
    const n = first + i
    const hi = Math.floor(n / TWO_32)
    view.setInt32(at[i]! + 4, hi)
    view.setUint32(at[i]! + 8, n - hi * TWO_32)
    view.setInt32(at[i]! + 16, int4)
  }
}

/** Writes a rectangular array's numbers (row-major) at `at`; the end offset, or -1 for a cell of another shape. */
export function writeElements(view: DataView, at: number, value: unknown, dims: readonly number[], depth: number, width: 4 | 8): number {
  const isArray = Array.isArray(value) || ArrayBuffer.isView(value)
  if (!isArray || (value as ArrayLike<unknown>).length !== dims[depth]) return -1
  const list = value as ArrayLike<unknown>
  if (depth < dims.length - 1) {
    for (let i = 0; i < list.length; i++) if ((at = writeElements(view, at, list[i], dims, depth + 1, width)) < 0) return -1
    return at
  }
  for (let i = 0; i < list.length; i++) {
    const x = list[i]
    if (typeof x !== 'number') return -1
    view.setInt32(at, width)
    if (width === 4) view.setFloat32(at + 4, x)
    else view.setFloat64(at + 4, x)
    at += 4 + width
  }
  return at
}

/** Writes one non-null value of a column; throws a CellEncodingError when the value has no binary form here. */
export type BinaryField = (w: CopyBinaryWriter, value: unknown) => void

/** A value the binary writer cannot encode (a shape the caller's validation should not have let through). */
export class CellEncodingError extends TesseraError {
  constructor(message: string) {
    super('INVALID_ROW', message)
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const HEX_UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

/**
 * The writer for a column of Postgres type `pgType` holding validated insert values (src/types: numbers for int and
 * float, booleans, Date, ISO text or epoch milliseconds for timestamps, 'YYYY-MM-DD' for dates, strings, JSON values, Uint8Array,
 * arrays of numbers); undefined where the type has no binary writer (the caller keeps COPY's CSV form).
 */
export function binaryField(pgType: string): BinaryField | undefined {
  switch (pgType) {
    case 'bigint': return (w, v) => {
      const n = typeof v === 'bigint' ? Number(v) : v
      if (!Number.isSafeInteger(n)) throw new CellEncodingError(`expected an integer, got ${String(v)}`)
      w.int64(n as number)
    }
    case 'double precision': return (w, v) => {
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new CellEncodingError(`expected a number, got ${String(v)}`)
      w.float64(Number(v))
    }
    case 'boolean': return (w, v) => w.bool(v === true)
    case 'text': return (w, v) => w.text(String(v))
    case 'jsonb': return (w, v) => w.text(JSON.stringify(v), 1)
    case 'bytea': return (w, v) => {
      if (!(v instanceof Uint8Array)) throw new CellEncodingError('expected bytes')
      w.bytes(v)
    }
    case 'timestamptz': return (w, v) => {
      // A number is milliseconds since the epoch: what an import's cells hold (BulkLoad.prepareCells), with no Date.
      const ms = typeof v === 'number' ? (Number.isInteger(v) ? v : NaN) : v instanceof Date ? v.getTime() : Date.parse(String(v))
      if (Number.isNaN(ms)) throw new CellEncodingError(`expected a timestamp, got ${String(v)}`)
      // Postgres' range (4713 BC to 294276 AD) holds every JS Date; its receive function checks the bound.
      w.int64Thousands(ms - PG_EPOCH_MS)
    }
    case 'date': return (w, v) => {
      const s = v instanceof Date ? v.toISOString().slice(0, 10) : String(v)
      const m = ISO_DATE.exec(s)
      const days = m ? civilDays(Number(m[1]), Number(m[2]), Number(m[3])) : undefined
      // date_in refuses a day the month does not have: so does this (Date.UTC would roll it into the next month).
      if (days === undefined) throw new CellEncodingError(`date/time field value out of range: "${s}"`)
      w.int32(days - PG_EPOCH_DAYS)
    }
    case 'uuid': return (w, v) => {
      const s = String(v)
      if (!HEX_UUID.test(s)) throw new CellEncodingError(`expected a UUID, got ${s}`)
      const hex = s.replaceAll('-', '')
      const b = new Uint8Array(16)
      for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
      w.bytes(b)
    }
    case 'real[]': return (w, v) => {
      if (!w.floatArray(v, 4)) throw new CellEncodingError('expected a rectangular array of numbers')
    }
    case 'double precision[]': return (w, v) => {
      if (!w.floatArray(v, 8)) throw new CellEncodingError('expected a rectangular array of numbers')
    }
    default: return undefined
  }
}
