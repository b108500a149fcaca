import { civilDays } from './civil-days.ts'

// An exact reader of the ISO 8601 / PostgreSQL text form of a timestamp, digit by digit, instead of Date.parse.
// Date.parse reads 'YYYY-MM-DD HH:MM:SS' (a space, as Postgres writes it) with its legacy reader, which takes a year
// below 100 as 19xx ('0050-06-15 12:00:00+00' is 1950) and a text without a zone as the machine's local time: the
// store's years 1-99 read back shifted by 1900 or 2000 years, and an import's result depended on the server's TZ.
//
// Form: [+-]YYYY[YY]-MM-DD, optionally [T or space]HH:MM[:SS[.f…]] (1 to 9 fraction digits, truncated to the
// millisecond as Date.parse and the binary COPY reader do), optionally a zone (Z, ±HH, ±HH:MM, ±HHMM, ±HH:MM:SS: a
// zone's local mean time before 1900 has seconds in Postgres' output), optionally ' BC' (Postgres writes year 1 BC
// as '0001-… BC', which is astronomical year 0). No zone is UTC, as a date alone is in ECMAScript.

const MS_PER_DAY = 86_400_000
const YEAR = /^([+-]\d{6}|\d{4,})-(\d{2})-(\d{2})/
const TIME = /^[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?/
const ZONE = /^(?:Z|([+-])(\d{2})(?::?(\d{2})(?::(\d{2}))?)?)/

/**
 * Milliseconds since the Unix epoch of an ISO 8601 or PostgreSQL timestamp text, zone-less meaning UTC; undefined for
 * a text of another form, or naming a day, hour, minute or second that does not exist (24:00 and leap seconds too).
 */
export function isoTextMs(s: string): number | undefined {
  const ymd = YEAR.exec(s)
  if (!ymd) return undefined
  let p = ymd[0].length
  let year = Number(ymd[1])
  let clock = 0
  const time = TIME.exec(s.slice(p))
  if (time) {
    p += time[0].length
    const h = Number(time[1])
    const mi = Number(time[2])
    const sec = time[3] === undefined ? 0 : Number(time[3])
    if (h > 23 || mi > 59 || sec > 59) return undefined
    // The first three fraction digits are the milliseconds: digits past them are dropped (truncation), as Date.parse.
    const ms = time[4] === undefined ? 0 : Number(time[4].slice(0, 3).padEnd(3, '0'))
    clock = ((h * 60 + mi) * 60 + sec) * 1000 + ms
    const zone = ZONE.exec(s.slice(p))
    if (zone) {
      p += zone[0].length
      if (zone[1] !== undefined) {
        const oh = Number(zone[2])
        const om = zone[3] === undefined ? 0 : Number(zone[3])
        const os = zone[4] === undefined ? 0 : Number(zone[4])
        if (om > 59 || os > 59) return undefined
        clock -= (zone[1] === '-' ? -1 : 1) * ((oh * 60 + om) * 60 + os) * 1000
      }
    }
  }
  if (s.startsWith(' BC', p)) {
    if (ymd[1]!.startsWith('+') || ymd[1]!.startsWith('-') || year === 0) return undefined
    year = 1 - year
    p += 3
  }
  if (p !== s.length) return undefined
  const days = civilDays(year, Number(ymd[2]), Number(ymd[3]))
  return days === undefined ? undefined : days * MS_PER_DAY + clock
}

/**
 * A timestamp (timestamptz or timestamp) as PostgreSQL writes it in text ('0050-06-15 12:00:00.123+00'), exactly: the
 * stores' result parser. 'infinity' and '-infinity', which no Tessera write makes, read as an invalid Date, as before.
 */
export function pgTimestamp(s: string): Date {
  return new Date(isoTextMs(s) ?? Number.NaN)
}
