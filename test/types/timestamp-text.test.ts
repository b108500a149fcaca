import { describe, expect, test } from 'bun:test'
import { isoTextMs, pgTimestamp } from '../../src/types/timestamp-text.ts'
import { memoryDb } from '../support/db.ts'

// The stores' timestamp parser reads Postgres' text form exactly: years below 100 (which `new Date(text)` took as
// 19xx/20xx), offsets with seconds (a zone's local mean time), ' BC' (year 1 AD early on 1 January, written in a zone
// west of Greenwich), and fractions to the microsecond, truncated to the millisecond as Date.parse does.

const iso = (s: string) => new Date(s).getTime()

describe('isoTextMs', () => {
  test("Postgres' forms", () => {
    expect(isoTextMs('0050-06-15 12:00:00+00')).toBe(iso('0050-06-15T12:00:00Z'))
    expect(isoTextMs('0001-01-01 00:00:00+00')).toBe(iso('0001-01-01T00:00:00Z'))
    expect(isoTextMs('0099-12-31 23:59:59.999+00')).toBe(iso('0099-12-31T23:59:59.999Z'))
    expect(isoTextMs('2024-01-15 10:00:00.123456+00')).toBe(iso('2024-01-15T10:00:00.123Z'))
    expect(isoTextMs('2024-01-15 10:00:00.1239+00')).toBe(iso('2024-01-15T10:00:00.123Z'))
    expect(isoTextMs('2024-01-15 10:00:00.5+00')).toBe(iso('2024-01-15T10:00:00.500Z'))
    expect(isoTextMs('1969-12-31 23:59:59.9999+00')).toBe(-1)
    expect(isoTextMs('2024-01-15 10:00:00-05')).toBe(iso('2024-01-15T15:00:00Z'))
    expect(isoTextMs('2024-01-15 10:00:00+05:30')).toBe(iso('2024-01-15T04:30:00Z'))
    expect(isoTextMs('0050-06-15 07:03:58-04:56:02')).toBe(iso('0050-06-15T12:00:00Z'))
    expect(isoTextMs('0001-12-31 19:03:58-04:56:02 BC')).toBe(iso('0001-01-01T00:00:00Z'))
    expect(isoTextMs('10000-01-01 00:00:00+00')).toBe(Date.UTC(10000, 0, 1))
    // timestamp without time zone, and ISO text with a T or Z.
    expect(isoTextMs('0050-06-15 12:00:00')).toBe(iso('0050-06-15T12:00:00Z'))
    expect(isoTextMs('0050-06-15T12:00:00Z')).toBe(iso('0050-06-15T12:00:00Z'))
    expect(isoTextMs('2024-01-15')).toBe(iso('2024-01-15'))
  })

  test('other texts and impossible fields are not read', () => {
    for (const s of ['', 'infinity', '-infinity', '2024-02-30 00:00:00+00', '2024-01-15 24:00:00+00', '2024-01-15 10:60:00+00',
      '2024-01-15 10:00:60+00', '2024-01-15 10:00:00+05:60', '2024-01-15 10:00:00 junk', '24-01-15', '2024-1-15', '0000-01-01 BC'])
      expect(isoTextMs(s)).toBeUndefined()
    expect(Number.isNaN(pgTimestamp('infinity').getTime())).toBe(true)
  })
})

test("the embedded store's text in zones east and west of Greenwich reads back the instant stored", async () => {
  const db = await memoryDb()
  try {
    const values = ['0001-01-01T00:00:00.001Z', '0050-06-15T12:00:00.123Z', '0099-12-31T23:59:59.999Z', '1000-03-01T01:02:03.004Z', '2024-02-29T10:11:12.345Z', '9999-12-31T23:59:59.999Z']
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']) {
      const back = await db.driver.transaction(async (tx) => {
        await tx.query(`set local time zone '${zone}'`)
        const rows = (await tx.query<{ t: Date; text: string }>(`select v::timestamptz as t, v::timestamptz::text as text from unnest($1::text[]) with ordinality as u(v, i) order by i`, [values])).rows
        return rows
      })
      expect(back.map((r) => r.t.toISOString())).toEqual(values)
      // The text form is the one parsed (zone offsets with seconds, BC in a zone west of Greenwich).
      expect(back.map((r) => pgTimestamp(r.text).toISOString())).toEqual(values)
      if (zone === 'America/New_York') expect(back[0]!.text).toEndWith(' BC')
    }
    // timestamp without time zone reads as UTC.
    const plain = (await db.driver.query<{ t: Date }>(`select '0050-06-15 12:00:00.123456'::timestamp as t`)).rows[0]!.t
    expect(plain.toISOString()).toBe('0050-06-15T12:00:00.123Z')
  } finally {
    await db.close()
  }
}, 60_000)
