import { describe, expect, test } from 'bun:test'
import { isoTimestampMs } from '../../src/io/import/timestamp-text.ts'

// The hand reader must give exactly Date.parse's milliseconds for every text it reads, and leave every other text
// (undefined) to Date.parse.

const pad = (n: number, w: number) => String(n).padStart(w, '0')

describe('isoTimestampMs', () => {
  test('equals Date.parse on generated ISO texts with a zone', () => {
    let seed = 12345
    const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % k)
    let read = 0
    for (let i = 0; i < 20000; i++) {
      const y = rnd(10) === 0 ? rnd(10000) : 1900 + rnd(250)
      const mo = 1 + rnd(12)
      const d = 1 + rnd(31) // some days the month lacks: those must be left to Date.parse
      const time = `${pad(rnd(24), 2)}:${pad(rnd(60), 2)}`
      const secs = rnd(3) === 0 ? '' : `:${pad(rnd(60), 2)}`
      const frac = secs && rnd(2) === 0 ? '.' + pad(rnd(1e9), 9).slice(0, 1 + rnd(9)) : ''
      const zone = ['Z', '+01:00', '-05:30', '+0545', '-00:00', '+23:59'][rnd(6)]!
      const space = rnd(4) === 0
      const s = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${space ? ' ' : 'T'}${time}${secs}${frac}${zone}`
      const got = isoTimestampMs(s)
      const want = Date.parse(s)
      if (got !== undefined) {
        read++
        expect({ s, ms: got }).toEqual({ s, ms: want })
      } else expect({ s, leftToDateParse: d > 28 || (space && y < 1000) || Number.isNaN(want) }).toEqual({ s, leftToDateParse: true })
    }
    expect(read).toBeGreaterThan(15000)
  })

  test('known values', () => {
    expect(isoTimestampMs('2024-01-01T00:00:00Z')).toBe(1704067200000)
    expect(isoTimestampMs('2024-01-01T00:00:00.1Z')).toBe(1704067200100)
    expect(isoTimestampMs('2024-01-01T00:00:00.123456Z')).toBe(1704067200123)
    expect(isoTimestampMs('2024-01-01T00:00:00+01:00')).toBe(1704063600000)
    expect(isoTimestampMs('1969-12-31T23:59:59.999Z')).toBe(-1)
    expect(isoTimestampMs('0000-01-01T00:00:00Z')).toBe(Date.parse('0000-01-01T00:00:00Z'))
    expect(isoTimestampMs('2024-02-29T12:00Z')).toBe(Date.parse('2024-02-29T12:00Z'))
  })

  test('other forms are left to Date.parse', () => {
    for (const s of [
      '2024-01-01T00:00:00', // no zone: local time
      '2024-01-01', '2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T23:59:60Z',
      '2024-01-01t00:00:00z', '2024-01-01T00:00:00.Z', '2024-01-01T00:00:00+24:00', '2024-1-01T00:00:00Z',
      '+012024-01-01T00:00:00Z', '2024-01-01T00:00:00Zx', '2024-01-01T00:00:00+01', '2024-01-01T00:00:00.1234567890Z',
      '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z', '2024-01-01T00:60Z', ' 2024-01-01T00:00:00Z', 'x024-01-01T00:00:00Z',
    ]) expect({ s, ms: isoTimestampMs(s) }).toEqual({ s, ms: undefined })
  })
})
