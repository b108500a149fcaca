import { call, expectKinds, scalar, t, typeError } from '../query/index.ts'
import type { Expr, ExprLike, FnNode, SqlArg } from '../query/index.ts'

// Timestamp and date functions. Timestamps are stored as timestamptz; every field and truncation here is taken in
// UTC, in SQL and in TypeScript alike, so a computed column gives the same answer whichever side computes it.

const TS = ['timestamp', 'date']

/** Values reach TypeScript as Date (timestamps, and dates read back from Postgres) or 'YYYY-MM-DD' (dates). */
export function asDate(v: unknown): Date {
  if (v instanceof Date) return v
  if (typeof v === 'string') return new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v)
  if (typeof v === 'number') return new Date(v)
  throw new TypeError(`expected a timestamp or date, got ${JSON.stringify(v)}`)
}
const isoDate = (d: Date): string => d.toISOString().slice(0, 10)
/** Postgres field source: timestamps are read in UTC; dates have no zone. */
const utc = (a: SqlArg): string => (a.type.kind === 'timestamp' ? `(${a.sql} at time zone 'UTC')` : a.sql)

function field(name: string, pgField: string, evalFn: (d: Date) => number, timeOnly = false) {
  scalar({
    name, minArgs: 1, maxArgs: 1,
    returnType: (types, node) => (expectKinds(node, types, 0, timeOnly ? ['timestamp'] : TS), t('int', types[0]!.nullable)),
    sql: ([a]) => `floor(extract(${pgField} from ${utc(a!)}))::bigint`,
    eval: ([a]) => evalFn(asDate(a)),
  })
}
field('year', 'year', (d) => d.getUTCFullYear())
field('month', 'month', (d) => d.getUTCMonth() + 1)
field('day', 'day', (d) => d.getUTCDate())
field('hour', 'hour', (d) => d.getUTCHours(), true)
field('minute', 'minute', (d) => d.getUTCMinutes(), true)
field('second', 'second', (d) => d.getUTCSeconds(), true)
// Python's weekday(): Monday = 0 ... Sunday = 6; isoweekday(): Monday = 1 ... Sunday = 7.
field('isoweekday', 'isodow', (d) => d.getUTCDay() || 7)
scalar({
  name: 'weekday', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, TS), t('int', types[0]!.nullable)),
  sql: ([a]) => `(extract(isodow from ${utc(a!)}) - 1)::bigint`,
  eval: ([a]) => (asDate(a).getUTCDay() + 6) % 7,
})

const UNITS = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second'] as const
type Unit = (typeof UNITS)[number]
function unitOf(node: FnNode): Unit {
  const u = String(node.opts?.unit ?? '').toLowerCase()
  if (!(UNITS as readonly string[]).includes(u)) throw typeError(node, `date_trunc() unit must be one of ${UNITS.join(', ')}, got ${JSON.stringify(node.opts?.unit)}`)
  return u as Unit
}
export function truncUtc(d: Date, unit: Unit): Date {
  const x = new Date(d.getTime())
  switch (unit) {
    case 'year': return new Date(Date.UTC(x.getUTCFullYear(), 0, 1))
    case 'quarter': return new Date(Date.UTC(x.getUTCFullYear(), Math.floor(x.getUTCMonth() / 3) * 3, 1))
    case 'month': return new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), 1))
    case 'week': return new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), x.getUTCDate() - ((x.getUTCDay() + 6) % 7)))
    case 'day': return new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), x.getUTCDate()))
    case 'hour': x.setUTCMinutes(0, 0, 0); return x
    case 'minute': x.setUTCSeconds(0, 0); return x
    case 'second': x.setUTCMilliseconds(0); return x
  }
}
scalar({
  name: 'date_trunc', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, TS), unitOf(node), types[0]!),
  sql: ([a], emit, node) => (a!.type.kind === 'date'
    ? `date_trunc(${emit.param(unitOf(node))}, ${a!.sql})::date`
    : `date_trunc(${emit.param(unitOf(node))}, ${a!.sql}, 'UTC')`),
  eval: ([a], node) => {
    const d = truncUtc(asDate(a), unitOf(node))
    return a instanceof Date ? d : isoDate(d)
  },
})

// strftime: a documented subset of Python's directives, each with a to_char() equivalent.
const DIRECTIVES: Record<string, { pg: string; ts: (d: Date) => string }> = {
  Y: { pg: 'YYYY', ts: (d) => String(d.getUTCFullYear()).padStart(4, '0') },
  y: { pg: 'YY', ts: (d) => String(d.getUTCFullYear() % 100).padStart(2, '0') },
  m: { pg: 'MM', ts: (d) => String(d.getUTCMonth() + 1).padStart(2, '0') },
  d: { pg: 'DD', ts: (d) => String(d.getUTCDate()).padStart(2, '0') },
  H: { pg: 'HH24', ts: (d) => String(d.getUTCHours()).padStart(2, '0') },
  I: { pg: 'HH12', ts: (d) => String(d.getUTCHours() % 12 || 12).padStart(2, '0') },
  p: { pg: 'AM', ts: (d) => (d.getUTCHours() < 12 ? 'AM' : 'PM') },
  M: { pg: 'MI', ts: (d) => String(d.getUTCMinutes()).padStart(2, '0') },
  S: { pg: 'SS', ts: (d) => String(d.getUTCSeconds()).padStart(2, '0') },
  f: { pg: 'US', ts: (d) => String(d.getUTCMilliseconds() * 1000).padStart(6, '0') },
  j: { pg: 'DDD', ts: (d) => String(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1).padStart(3, '0') },
  a: { pg: 'Dy', ts: (d) => ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]! },
  A: { pg: 'FMDay', ts: (d) => ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d.getUTCDay()]! },
  b: { pg: 'Mon', ts: (d) => ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]! },
  B: { pg: 'FMMonth', ts: (d) => ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][d.getUTCMonth()]! },
}
/** The directives strftime() understands (plus %% for a literal %). */
export const STRFTIME_DIRECTIVES: readonly string[] = Object.keys(DIRECTIVES).map((k) => `%${k}`)

type Piece = { text: string } | { directive: string }
function parseFormat(node: FnNode): Piece[] {
  const format = node.opts?.format
  if (typeof format !== 'string') throw typeError(node, 'strftime() needs opts.format, e.g. "%Y-%m-%d"')
  const pieces: Piece[] = []
  let text = ''
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!
    if (ch !== '%') { text += ch; continue }
    const next = format[++i]
    if (next === '%') { text += '%'; continue }
    if (next === undefined || !DIRECTIVES[next]) throw typeError(node, `strftime() does not support %${next ?? ''}; supported: ${STRFTIME_DIRECTIVES.join(' ')} %%`)
    if (text) pieces.push({ text })
    text = ''
    pieces.push({ directive: next })
  }
  if (text) pieces.push({ text })
  return pieces
}
/** to_char pattern: directives as template patterns, other text double-quoted so letters in it are not patterns. */
function toCharPattern(pieces: readonly Piece[]): string {
  return pieces.map((p) => ('directive' in p ? DIRECTIVES[p.directive]!.pg : `"${p.text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)).join('')
}
scalar({
  name: 'strftime', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, TS), parseFormat(node), t('string', types[0]!.nullable)),
  sql: ([a], emit, node) => `to_char(${a!.type.kind === 'date' ? `(${a!.sql})::timestamp` : utc(a!)}, ${emit.param(toCharPattern(parseFormat(node)))})`,
  eval: ([a], node) => {
    const d = asDate(a)
    return parseFormat(node).map((p) => ('directive' in p ? DIRECTIVES[p.directive]!.ts(d) : p.text)).join('')
  },
})

scalar({
  name: 'add_days', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => {
    expectKinds(node, types, 0, TS)
    expectKinds(node, types, 1, ['int'])
    return { ...types[0]!, nullable: types[0]!.nullable || types[1]!.nullable }
  },
  sql: ([a, n]) => (a!.type.kind === 'date' ? `(${a!.sql} + (${n!.sql})::int)` : `(${a!.sql} + make_interval(days => (${n!.sql})::int))`),
  eval: ([a, n]) => {
    const d = new Date(asDate(a).getTime() + (n as number) * 86_400_000)
    return a instanceof Date ? d : isoDate(d)
  },
})

scalar({
  name: 'to_date', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string', 'timestamp', 'date']), t('date', types[0]!.nullable)),
  sql: ([a]) => (a!.type.kind === 'timestamp' ? `(${utc(a!)})::date` : `(${a!.sql})::date`),
  eval: ([a]) => {
    const d = asDate(a)
    if (Number.isNaN(d.getTime())) throw new RangeError(`cannot read ${JSON.stringify(a)} as a date`)
    return isoDate(d)
  },
})

// to_timestamp: an ISO string, or seconds since the epoch (as Python's datetime.fromtimestamp, in UTC).
scalar({
  name: 'to_timestamp', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string', 'int', 'float', 'date', 'timestamp']), t('timestamp', types[0]!.nullable)),
  sql: ([a]) => {
    switch (a!.type.kind) {
      case 'int': case 'float': return `to_timestamp((${a!.sql})::double precision)`
      case 'date': return `((${a!.sql})::timestamp at time zone 'UTC')`
      default: return `(${a!.sql})::timestamptz`
    }
  },
  eval: ([a]) => {
    const d = typeof a === 'number' ? new Date(a * 1000) : asDate(a)
    if (Number.isNaN(d.getTime())) throw new RangeError(`cannot read ${JSON.stringify(a)} as a timestamp`)
    return d
  },
})

// now(): the transaction's time in SQL, the call's time in TypeScript. Never folded or cached.
scalar({
  name: 'now', minArgs: 0, maxArgs: 0, deterministic: false,
  returnType: () => t('timestamp'),
  sql: () => 'now()',
  eval: () => new Date(),
})

/** Timestamp/date functions as expression builders: `timestamp.year(events.c.at)`. All fields are in UTC. */
export const timestamp = {
  year: (x: ExprLike): Expr => call('year', [x]),
  month: (x: ExprLike): Expr => call('month', [x]),
  day: (x: ExprLike): Expr => call('day', [x]),
  hour: (x: ExprLike): Expr => call('hour', [x]),
  minute: (x: ExprLike): Expr => call('minute', [x]),
  second: (x: ExprLike): Expr => call('second', [x]),
  weekday: (x: ExprLike): Expr => call('weekday', [x]),
  isoweekday: (x: ExprLike): Expr => call('isoweekday', [x]),
  dateTrunc: (x: ExprLike, unit: Unit): Expr => call('date_trunc', [x], { unit }),
  /** Python-style format; supported directives: STRFTIME_DIRECTIVES and %%. */
  strftime: (x: ExprLike, format: string): Expr => call('strftime', [x], { format }),
  addDays: (x: ExprLike, days: ExprLike): Expr => call('add_days', [x, days]),
  toDate: (x: ExprLike): Expr => call('to_date', [x]),
  toTimestamp: (x: ExprLike): Expr => call('to_timestamp', [x]),
  now: (): Expr => call('now'),
}
