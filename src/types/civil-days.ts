import { isoTextMs } from './timestamp-text.ts'

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil); undefined for a day that does not
 * exist. Shared by the COPY binary writer (dates) and the import's timestamp reader.
 */
export function civilDays(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1) return undefined
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const monthDays = m === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31
  if (d > monthDays) return undefined
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

/** Why y-m-d is no calendar day ('not a calendar day (February 2026 has 28 days)'), or undefined when it is one. */
export function calendarDayProblem(y: number, m: number, d: number): string | undefined {
  if (civilDays(y, m, d) !== undefined) return undefined
  if (!(m >= 1 && m <= 12)) return `not a calendar date (no month ${m})`
  if (d < 1) return `not a calendar date (no day ${d})`
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = m === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31
  return `not a calendar day (${MONTH_NAMES[m - 1]} ${y} has ${days} days)`
}

// Where a timestamp text Date.parse reads names its month and day. Date.parse takes day 29 to 31 of any month and
// rolls a day the month lacks over into the next month ('2026-02-30' is March 2), so the day is checked against the
// month here. The forms: year first ('2026-02-30', '2026/2/30 10:00', '+002026-02-30T…'), month first ('02/30/2026',
// '2-30-2026'), and a month's name before or after the day ('Feb 30 2026', 'Mon, 30 Feb 2026 …', '2026-Feb-30').
const YEAR_FIRST = /^\s*(?:[+-]\d{6}|\d{3,6})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)/
const MONTH_FIRST = /^\s*(\d{1,2})[-/.](\d{1,2})[-/.]\d/
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?'
const NAME_THEN_DAY = new RegExp(`${MONTH}[\\s,-]*(\\d{1,2})(?!\\d)`, 'i')
const DAY_THEN_NAME = new RegExp(`(?<!\\d)(\\d{1,2})[\\s,-]*${MONTH}`, 'i')
const MONTH_NUMBER: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 }

/**
 * Why a timestamp text that Date.parse read as `ms` names a day its month lacks ('2026-02-30T00:00:00Z'), or
 * undefined. The year is the one Date.parse read (its result: a rolled-over day stays within the year, as no month
 * that can roll over ends one, and a zone moves it a day at most).
 */
export function rolledOverDayProblem(s: string, ms: number): string | undefined {
  let m: number
  let d: number
  let match = YEAR_FIRST.exec(s) ?? MONTH_FIRST.exec(s)
  if (match) {
    m = Number(match[1])
    d = Number(match[2])
  } else if ((match = NAME_THEN_DAY.exec(s))) {
    m = MONTH_NUMBER[match[1]!.toLowerCase()]!
    d = Number(match[2])
  } else if ((match = DAY_THEN_NAME.exec(s))) {
    m = MONTH_NUMBER[match[2]!.toLowerCase()]!
    d = Number(match[1])
  } else return undefined
  // Only day 29 to 31 can be past a month's end (a day or month Date.parse cannot read at all is NaN already).
  if (d < 29 || !(m >= 1 && m <= 12)) return undefined
  return calendarDayProblem(new Date(ms).getUTCFullYear(), m, d)
}

// A zone in a text Date.parse's legacy reader reads: Z or an offset right after the time, or a zone's name (UT, UTC,
// GMT, and the US zones it knows). Without one it reads the machine's local time, which is replaced by UTC below.
const HAS_ZONE = /\d[zZ]\b|\b(?:UTC?|GMT|[ECMP][SD]T)\b|\d:\d\d(?::\d\d(?:\.\d+)?)?\s*[+-]\d/i

/**
 * Milliseconds of a timestamp text, NaN where it reads none, and NaN too for a day the month lacks, which Date.parse
 * would roll over into the next month (the data would change silently). A text without a zone is UTC, as a date alone
 * is ('2024-01-15 10:00:00' and '2024-01-15' are both UTC): Date.parse read it in the server's time zone, so one file
 * imported on two machines stored different instants. ISO and Postgres forms are read exactly (isoTextMs, which
 * also keeps '0050-06-15 12:00:00' in year 50); other spellings ('Jan 15 2024 10:00') go to Date.parse with ' GMT'
 * added when they name no zone.
 */
export function timestampTextMs(s: string): number {
  const ms = readTimestampText(s)
  return Number.isNaN(ms) || rolledOverDayProblem(s, ms) !== undefined ? Number.NaN : ms
}

/**
 * Timestamp text as milliseconds (NaN: unreadable), zone-less text as UTC, without timestampTextMs's check of a day
 * the month lacks: inserts check that themselves, to say so (src/types/validate.ts).
 */
export function readTimestampText(s: string): number {
  const exact = isoTextMs(s)
  // An ISO form with impossible fields (February 30) goes on to Date.parse, which rolls it over: the caller's
  // rollover check then names the day the month lacks instead of a generic refusal.
  if (exact !== undefined && !Number.isNaN(exact)) return exact
  const ms = Date.parse(s)
  if (Number.isNaN(ms) || HAS_ZONE.test(s)) return ms
  const utc = Date.parse(`${s} GMT`)
  return Number.isNaN(utc) ? ms : utc
}

/**
 * 0001-01-01T00:00:00Z. An earlier timestamp (year 0 or BC) failed in the store as text ("date/time field value out of
 * range", naming no row), or, stored by binary COPY, read back as null: refused before the store instead.
 */
export const MIN_TIMESTAMP_MS = -62_135_596_800_000

/** Why a timestamp of `ms` cannot be stored, or undefined when it can. */
export function timestampRangeProblem(ms: number): string | undefined {
  return ms < MIN_TIMESTAMP_MS ? `a timestamp before year 1 (${new Date(ms).toISOString()}) is not supported` : undefined
}
