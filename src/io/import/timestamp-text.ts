// A timestamp cell's text → milliseconds since the Unix epoch, for the one form CSV files nearly always hold: ISO 8601
// with a zone, `YYYY-MM-DD[T ]HH:MM[:SS[.fff…]](Z|±HH:MM|±HHMM)`. An import's conversion spent about a third of its
// time in Date.parse and the Date it fed (BENCHMARKS.md, issue 22 imp2); this reads the digits by hand. It returns
// exactly what Date.parse returns for the text (test/io/timestamp-text.test.ts compares them), and undefined for
// every other text — no zone (local time), a day the month lacks, 24:00, leap seconds, a year below 1000 after a
// space, other spellings — which the caller hands to timestampTextMs (src/types): Date.parse, except that a day the
// month lacks, which Date.parse rolls over into the next month, is refused.

import { civilDays } from '../../types/index.ts'

const MS_PER_DAY = 86_400_000

/** The value of the `len` digits at s[at…], or -1 when one of them is not a digit. */
function digits(s: string, at: number, len: number): number {
  let v = 0
  for (let i = at; i < at + len; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

/** Milliseconds since the epoch of an ISO timestamp text with a zone, or undefined for a text of another form. */
export function isoTimestampMs(s: string): number | undefined {
  const n = s.length
  if (n < 17 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58) return undefined
  const sep = s.charCodeAt(10)
  if (sep !== 84 && sep !== 32) return undefined // 'T' or ' '
  const y = digits(s, 0, 4)
  const mo = digits(s, 5, 2)
  const d = digits(s, 8, 2)
  const h = digits(s, 11, 2)
  const mi = digits(s, 14, 2)
  // With a space, Date.parse takes its legacy reader, which reads a year below 100 as 19xx/20xx: those stay with it.
  if (y < 0 || (sep === 32 && y < 1000) || h < 0 || h > 23 || mi < 0 || mi > 59) return undefined
  // Undefined for a month or day that does not exist (a digit missing reads as -1).
  const days = civilDays(y, mo, d)
  if (days === undefined) return undefined
  let p = 16
  let sec = 0
  let ms = 0
  if (s.charCodeAt(p) === 58) {
    sec = digits(s, p + 1, 2)
    if (sec < 0 || sec > 59) return undefined
    p += 3
    if (s.charCodeAt(p) === 46) {
      // A fraction: its first three digits are the milliseconds (Date.parse drops the rest); 1 to 9 digits.
      const from = ++p
      while (p < n && p - from < 10) {
        const c = s.charCodeAt(p)
        if (c < 48 || c > 57) break
        if (p - from < 3) ms = ms * 10 + (c - 48)
        p++
      }
      const len = p - from
      if (len === 0 || len > 9) return undefined
      if (len === 1) ms *= 100
      else if (len === 2) ms *= 10
    }
  }
  let offsetMin: number
  const z = s.charCodeAt(p)
  if (z === 90 && p + 1 === n) offsetMin = 0 // 'Z'
  else if (z === 43 || z === 45) {
    // ±HH:MM or ±HHMM
    const colon = n - p === 6
    if (!colon && n - p !== 5) return undefined
    if (colon && s.charCodeAt(p + 3) !== 58) return undefined
    const oh = digits(s, p + 1, 2)
    const om = digits(s, colon ? p + 4 : p + 3, 2)
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om)
  } else return undefined
  return days * MS_PER_DAY + ((h * 60 + mi - offsetMin) * 60 + sec) * 1000 + ms
}
