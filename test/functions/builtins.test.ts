import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { json } from '../../src/functions/json-keys.ts'
import { math, roundHalfAway } from '../../src/functions/math.ts'
import { timestamp } from '../../src/functions/timestamp.ts'
import { uuid } from '../../src/functions/uuid.ts'
import type { Expr } from '../../src/query/expr.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// Each built-in runs in SQL (a select) and in TypeScript (a computed column with onError 'ignore', which the planner
// evaluates in TS): both must give the hand-computed answer.

let db: Tessera
let t: Table

const ROWS = [
  { id: 1, x: -2.5, ts: new Date('2024-03-05T13:04:05.123Z'), d: '2024-03-10', m: { bb: 1, a: 2, ccc: [3] } },
  { id: 2, x: 1.005, ts: new Date('2023-12-31T23:59:59Z'), d: '2024-02-29', m: [1] },
]

beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('f', { id: 'int', x: 'float', ts: 'timestamp', d: 'date', m: 'json' })
}, 120_000)
afterAll(() => db.close())

const cases = (): Record<string, [Expr, unknown, unknown]> => ({
  abs: [t.c.x.abs(), 2.5, 1.005],
  round0: [t.c.x.round(), -3, 1],
  round2: [math.round(t.c.x, 2), -2.5, 1.01],
  roundInt: [t.c.id.mul(1234).round(-2), 1200, 2500],
  floor: [t.c.x.floor(), -3, 1],
  ceil: [t.c.x.ceil(), -2, 2],
  sqrt: [math.sqrt(t.c.x.abs().mul(4)), Math.sqrt(10), Math.sqrt(4.02)],
  sqrtNeg: [math.sqrt(t.c.x), null, Math.sqrt(1.005)],
  pow: [math.pow(t.c.id, 3), 1, 8],
  powNeg: [math.pow(t.c.x, 0.5), null, Math.sqrt(1.005)],
  log10: [math.log10(t.c.id.mul(100)), 2, Math.log10(200)],
  clip: [t.c.x.clip(-1, 1), -1, 1],
  clipLow: [math.clamp(t.c.x, 0, null), 0, 1.005],
  year: [t.c.ts.year(), 2024, 2023],
  month: [t.c.ts.month(), 3, 12],
  day: [t.c.ts.day(), 5, 31],
  hour: [t.c.ts.hour(), 13, 23],
  minute: [t.c.ts.minute(), 4, 59],
  second: [t.c.ts.second(), 5, 59],
  weekday: [t.c.ts.weekday(), 1, 6],
  isoweekday: [timestamp.isoweekday(t.c.d), 7, 4],
  dateWeekday: [t.c.d.weekday(), 6, 3],
  truncWeek: [timestamp.dateTrunc(t.c.ts, 'week'), new Date('2024-03-04T00:00:00Z'), new Date('2023-12-25T00:00:00Z')],
  truncMonth: [timestamp.dateTrunc(t.c.d, 'month'), '2024-03-01', '2024-02-01'],
  strftime: [t.c.ts.strftime('%Y-%m-%d %H:%M:%S.%f %a %A %b %B %j %I%p %% x'),
    '2024-03-05 13:04:05.123000 Tue Tuesday Mar March 065 01PM % x', '2023-12-31 23:59:59.000000 Sun Sunday Dec December 365 11PM % x'],
  strftimeDate: [t.c.d.strftime('%d/%m/%y'), '10/03/24', '29/02/24'],
  addDays: [timestamp.addDays(t.c.ts, 3), new Date('2024-03-08T13:04:05.123Z'), new Date('2024-01-03T23:59:59Z')],
  addDaysDate: [timestamp.addDays(t.c.d, t.c.id), '2024-03-11', '2024-03-02'],
  toDate: [timestamp.toDate(t.c.ts), '2024-03-05', '2023-12-31'],
  toTimestamp: [timestamp.toTimestamp(t.c.id.mul(86400)), new Date('1970-01-02T00:00:00Z'), new Date('1970-01-03T00:00:00Z')],
  keys: [json.keys(t.c.m), ['a', 'bb', 'ccc'], null],
  values: [json.values(t.c.m), [2, 1, [3]], null],
  hasKey: [json.hasKey(t.c.m, 'bb'), true, false],
  uuidLen: [uuid.toString(uuid.uuid4()).len(), 36, 36],
})

const norm = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : typeof v === 'number' ? Number(v.toPrecision(12)) : v)

describe('built-in functions', () => {
  test('SQL evaluation gives the hand-computed answers', async () => {
    await t.insert(ROWS)
    const c = cases()
    const rows = (await t.select(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v[0]]))).orderBy(t.c.id).collect()).rows
    for (const [k, [, a, b]] of Object.entries(c)) {
      expect([k, norm(rows[0]![k])]).toEqual([k, norm(a)])
      expect([k, norm(rows[1]![k])]).toEqual([k, norm(b)])
    }
  })

  test('TypeScript evaluation (computed columns, backfill and insert) agrees', async () => {
    const c = cases()
    for (const [k, [e]] of Object.entries(c)) {
      if (k === 'uuidLen') continue
      await t.addComputedColumn(`ts_${k}`, e, { onError: 'ignore' })
    }
    // Backfilled rows read inputs back from Postgres; inserted rows arrive as validated JS values.
    await t.insert(ROWS.map((r) => ({ ...r, id: r.id + 10 })))
    const rows = (await t.orderBy(t.c.id).collect()).rows
    expect(rows.length).toBe(4)
    for (const [k, [e, a, b]] of Object.entries(c)) {
      if (k === 'uuidLen') continue
      const col = `ts_${k}`
      const expectFor = (i: number) => (i % 2 === 0 ? a : b)
      for (const [i, r] of rows.entries()) {
        // Rows 3 and 4 have id + 10: expressions over id differ there, so compare them against SQL instead.
        const want = i < 2 || !String(e).includes('id') ? expectFor(i) : (await t.where(t.c.id.eq(r.id as number)).select({ v: e }).collect()).rows[0]!.v
        expect([col, i, norm(r[col])]).toEqual([col, i, norm(want)])
      }
    }
    const errs = await t.where(t.c.ts_year.errortype.isNotNull()).count()
    expect(errs).toBe(0)
  })

  test('round is half away from zero, like Postgres numeric', () => {
    expect(roundHalfAway(2.5)).toBe(3)
    expect(roundHalfAway(-2.5)).toBe(-3)
    expect(roundHalfAway(1.005, 2)).toBe(1.01)
    expect(roundHalfAway(1234.5678, -2)).toBe(1200)
    expect(roundHalfAway(0.1 + 0.2, 15)).toBe(0.3)
  })

  test('bad arguments are refused when the expression is built into a query', async () => {
    await expect(await throwing(t.select({ y: t.c.x.year() }).collect())).toThrow(/year\(\) argument 1 must be timestamp or date, got float/)
    await expect(await throwing(t.select({ y: t.c.ts.strftime('%Q') }).collect())).toThrow(/does not support %Q/)
    await expect(await throwing(t.select({ y: t.c.x.round(1.5) }).collect())).toThrow(/digits must be an integer/)
    await expect(await throwing(t.select({ y: timestamp.dateTrunc(t.c.ts, 'fortnight' as 'week') }).collect())).toThrow(/unit must be one of/)
  })

  test('uuid4 differs per row; now is a timestamp', async () => {
    const rows = (await t.select({ u: uuid.uuid4(), n: timestamp.now() }).collect()).rows
    expect(new Set(rows.map((r) => r.u)).size).toBe(rows.length)
    expect(String(rows[0]!.u)).toMatch(/^[0-9a-f-]{36}$/)
    expect(Math.abs((rows[0]!.n as Date).getTime() - Date.now())).toBeLessThan(60_000)
    const parsed = (await t.select({ p: uuid.toString(uuid.parse('{6F9619FF-8B86-D011-B42D-00C04FC964FF}')) }).limit(1).collect()).rows[0]!.p
    expect(parsed).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff')
  })
})
