import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { calendarDayProblem, isStorableText, parseType, rolledOverDayProblem, textProblem, timestampTextMs, valueSchema } from '../../src/types/index.ts'

// The column types' own checks (src/types/validate.ts), which insert(), update(), imports and computed columns all
// go through: each case is a value the store used to refuse with a message naming no row or column, or stored changed
// (rolled over, as null, as U+FFFD) without a word.

/** The value the column type stores, or 'refused: <message>'. */
const check = (type: string, x: unknown): unknown => {
  const r = v.safeParse(valueSchema(parseType(type)), x)
  return r.success ? r.output : `refused: ${r.issues[0].message}`
}

describe('float arrays hold finite numbers, float32 ones within float32 range', () => {
  test('non-finite elements are refused in every float dtype, saying which element', () => {
    for (const type of ['array<float32>[3]', 'array<float64>[3]', 'array<float32>', 'array<float32>[?]']) {
      expect(check(type, [1, 2, Infinity])).toBe('refused: array element Infinity: array elements must be finite numbers')
      expect(check(type, [1, -Infinity, 2])).toBe('refused: array element -Infinity: array elements must be finite numbers')
      expect(check(type, [Number.NaN, 1, 2])).toBe('refused: array element NaN is not a storable number')
    }
    expect(check('array<float32>[2,2]', [[1, 2], [3, Infinity]])).toBe('refused: array element Infinity: array elements must be finite numbers')
    expect(check('array<float32>[3]', new Float32Array([1, Infinity, 0]))).toBe('refused: array element Infinity: array elements must be finite numbers')
  })

  test('float32 elements beyond its range, or so small they would round to 0, are refused; its extremes pass', () => {
    expect(check('array<float32>[3]', [1, 2, 1e39])).toBe('refused: array element 1e+39 is beyond float32 range (±3.4028235e+38)')
    expect(check('array<float32>[3]', [1, 2, -3.5e38])).toBe('refused: array element -3.5e+38 is beyond float32 range (±3.4028235e+38)')
    expect(check('array<float32>[3]', [1, 2, 1e-50])).toMatch(/^refused: array element 1e-50 is below float32 range/)
    const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 1.4e-45]
    expect(check('array<float32>[3]', extremes)).toEqual(extremes)
    expect(check('array<float32>[3]', [0, -0, 0.5])).toEqual([0, -0, 0.5])
    // float64 takes what a JavaScript number holds.
    expect(check('array<float64>[3]', [1e39, 1e-300, -1e308])).toEqual([1e39, 1e-300, -1e308])
  })

  test('scalar float columns keep taking infinities (PostgreSQL float8 holds them); NaN stays refused', () => {
    expect(check('float', Infinity)).toBe(Infinity)
    expect(check('float', -Infinity)).toBe(-Infinity)
    expect(check('float', Number.NaN)).toMatch(/^refused: NaN is not a storable number/)
  })
})

describe('arrays are rectangular', () => {
  test('free dimensions take the first element\'s length; a ragged array is refused, not left to the store', () => {
    expect(check('array<float32>', [[1], [1, 2]])).toBe('refused: dimension 1 has length 2 here and 1 in the first element (arrays are rectangular)')
    expect(check('array<float32>[?,?]', [[1, 2], [3]])).toBe('refused: dimension 1 has length 1 here and 2 in the first element (arrays are rectangular)')
    expect(check('array<int64>[2,?]', [[1, 2], [3]])).toBe('refused: dimension 1 has length 1 here and 2 in the first element (arrays are rectangular)')
    expect(check('array<float32>', [[], [1]])).toMatch(/^refused: dimension 1 has length 1 here and 0/)
    expect(check('array<float32>', [1, [2]])).toBe('refused: bad array element [2]')
    expect(check('array<float32>[?,?]', [1, 2])).toBe('refused: expected an array')
    expect(check('array<float32>', 5)).toBe('refused: expected an array')
    for (const ok of [[[1, 2], [3, 4]], [], [[]], [[[1], [2]], [[3], [4]]], [1, 2, 3]]) expect(check('array<float32>', ok)).toEqual(ok)
    expect(check('array<float32>[?,?]', [[1, 2], [3, 4]])).toEqual([[1, 2], [3, 4]])
  })
})

describe('BigInt values (Parquet int64, BigInt64Array)', () => {
  test('int array elements within ±2^53 become numbers; beyond, a message that does not throw', () => {
    expect(check('array<int64>[?]', [1n, 2n, -3n])).toEqual([1, 2, -3])
    expect(check('array<int64>[2]', new BigInt64Array([5n, 6n]))).toEqual([5, 6])
    expect(check('array<int32>[?,?]', [[1n], [2n]])).toEqual([[1], [2]])
    expect(check('array<int64>[?]', [1n, 2n ** 60n])).toBe(`refused: array element ${2n ** 60n} is beyond ±2^53, where integers are not exact`)
    expect(check('array<int8>[?]', [1n, 300n])).toBe('refused: bad array element 300')
    // An element of another type is shown without JSON.stringify throwing on a BigInt inside it.
    expect(check('array<int64>[?]', [{ a: 1n }])).toBe('refused: bad array element {"a":"1"}')
    expect(check('array<bool>[?]', [true, 1n])).toBe('refused: bad array element 1')
  })

  test('arrays without BigInt elements come back as given (no copy)', () => {
    const a = [1, 2, 3]
    expect(check('array<int64>[3]', a)).toBe(a)
  })
})

describe('calendar days', () => {
  test('a date column refuses a day its month lacks, and says how many it has', () => {
    expect(check('date', '2026-02-30')).toBe('refused: not a calendar day (February 2026 has 28 days)')
    expect(check('date', '2026-04-31')).toBe('refused: not a calendar day (April 2026 has 30 days)')
    expect(check('date', '2023-02-29')).toBe('refused: not a calendar day (February 2023 has 28 days)')
    expect(check('date', '2026-13-01')).toBe('refused: not a calendar date (no month 13)')
    expect(check('date', '2026-00-10')).toBe('refused: not a calendar date (no month 0)')
    expect(check('date', '2026-01-00')).toBe('refused: not a calendar date (no day 0)')
    expect(check('date', '2024-02-29')).toBe('2024-02-29')
    expect(check('date', '2026-12-31')).toBe('2026-12-31')
    expect(check('date', new Date('2026-03-04T05:06:07Z'))).toBe('2026-03-04')
    // An invalid Date is refused (its toISOString() threw a RangeError out of the check before).
    expect(check('date', new Date(Number.NaN))).toBe('refused: expected a date as YYYY-MM-DD')
  })

  test('a timestamp column refuses a day its month lacks in every form Date.parse rolls over', () => {
    for (const s of [
      '2026-02-30T00:00:00Z', '2026-02-30', '2026-02-30T00:00:00', '2026-02-30 12:00:00+02:00', '2026/2/30 10:00', '2026.02.30',
      '+002026-02-30T00:00:00Z', '02/30/2026', '2-30-2026', 'Feb 30 2026', '30 Feb 2026', 'Mon, 30 Feb 2026 00:00:00 GMT',
      'February 30, 2026 10:00 UTC', '2026-Feb-30', '30-feb-2026',
    ]) expect({ s, got: check('timestamp', s) }).toEqual({ s, got: 'refused: not a calendar day (February 2026 has 28 days)' })
    expect(check('timestamp', '2026-04-31T12:00:00Z')).toBe('refused: not a calendar day (April 2026 has 30 days)')
    expect(check('timestamp', 'June 31 2026')).toBe('refused: not a calendar day (June 2026 has 30 days)')
    expect(check('timestamp', '2023-02-29T00:00:00Z')).toBe('refused: not a calendar day (February 2023 has 28 days)')
    expect(check('timestamp', '2026-11-31 08:00')).toBe('refused: not a calendar day (November 2026 has 30 days)')
  })

  test('real days keep their meaning, leap days and zones included', () => {
    for (const s of [
      '2024-02-29T00:00:00Z', '2024-02-29T23:00:00-05:00', '2026-01-31T00:00:00Z', '2026-03-31', '2026-12-31T23:59:59.999Z',
      'Feb 28 2026', '29 Feb 2024', '12/31/2026', '2026-06-30T00:00:00+01:00', '0024-02-29T00:00:00Z', '2026', '2026-02',
    ]) {
      const got = check('timestamp', s)
      expect({ s, ms: got instanceof Date ? got.getTime() : got }).toEqual({ s, ms: Date.parse(s) })
    }
    expect(check('timestamp', 'not a time')).toBe('refused: expected a Date or an ISO 8601 timestamp string')
    expect(check('timestamp', 5)).toBe('refused: expected a Date or an ISO 8601 timestamp string')
    expect(check('timestamp', new Date(Number.NaN))).toBe('refused: invalid Date')
    const d = new Date('2026-01-02T03:04:05Z')
    expect(check('timestamp', d)).toBe(d)
  })

  test('years the store cannot take as text: date 0000, timestamps before year 1 (they failed unnamed, or read back as null)', () => {
    expect(check('date', '0000-01-01')).toBe('refused: not a supported date (year 0000; dates start at 0001-01-01)')
    expect(check('date', '0001-01-01')).toBe('0001-01-01')
    const bc = new Date(0)
    bc.setUTCFullYear(0, 5, 1)
    expect(check('date', bc)).toBe('refused: expected a date as YYYY-MM-DD')
    expect(check('timestamp', bc)).toBe('refused: a timestamp before year 1 (0000-06-01T00:00:00.000Z) is not supported')
    expect(check('timestamp', '0000-06-01T00:00:00Z')).toBe('refused: a timestamp before year 1 (0000-06-01T00:00:00.000Z) is not supported')
    expect(check('timestamp', '0001-01-01T00:30:00+01:00')).toMatch(/^refused: a timestamp before year 1/)
    expect((check('timestamp', '0001-01-01T00:00:00Z') as Date).toISOString()).toBe('0001-01-01T00:00:00.000Z')
  })

  test('the helpers: calendarDayProblem, rolledOverDayProblem, timestampTextMs', () => {
    expect(calendarDayProblem(2024, 2, 29)).toBeUndefined()
    expect(calendarDayProblem(1900, 2, 29)).toBe('not a calendar day (February 1900 has 28 days)')
    expect(calendarDayProblem(2000, 2, 29)).toBeUndefined()
    expect(rolledOverDayProblem('2026-02-28T00:00:00Z', Date.parse('2026-02-28T00:00:00Z'))).toBeUndefined()
    expect(timestampTextMs('2026-02-30T00:00:00Z')).toBeNaN()
    expect(timestampTextMs('nonsense')).toBeNaN()
    expect(timestampTextMs('2026-03-02T00:00:00Z')).toBe(Date.parse('2026-03-02T00:00:00Z'))
  })
})

describe('text the store can hold', () => {
  test('string columns refuse U+0000 and lone surrogates, saying which and where', () => {
    expect(check('string', 'nul\u0000byte')).toBe('refused: contains U+0000 (NUL) at character 3, which PostgreSQL text and json cannot hold')
    expect(check('string', 'lone \ud800')).toBe('refused: contains a lone UTF-16 surrogate (U+D800) at character 5, which is not valid Unicode')
    expect(check('string', '\udc00x')).toBe('refused: contains a lone UTF-16 surrogate (U+DC00) at character 0, which is not valid Unicode')
    expect(check('string', 'a\ud83d')).toBe('refused: contains a lone UTF-16 surrogate (U+D83D) at character 1, which is not valid Unicode')
    // Surrogate pairs (emoji), other control characters and Latin-1 text are text.
    for (const s of ['😀 ok', 'é 漢字', 'tab\there\u0001', '', 'x'.repeat(10_000)]) expect(check('string', s)).toBe(s)
  })

  test('json values refuse them in any string or key, however deep', () => {
    expect(check('json', { k: 'x\u0000' })).toBe('refused: a string in it contains U+0000 (NUL) at character 1, which PostgreSQL text and json cannot hold')
    expect(check('json', { 'k\u0000': 1 })).toBe('refused: a key in it contains U+0000 (NUL) at character 1, which PostgreSQL text and json cannot hold')
    expect(check('json', [1, [{ a: ['\udfff'] }]])).toBe('refused: a string in it contains a lone UTF-16 surrogate (U+DFFF) at character 0, which is not valid Unicode')
    expect(check('json', 'plain \u0000')).toMatch(/^refused: a string in it contains U\+0000/)
    expect(check('json', { a: Infinity })).toMatch(/^refused: expected a JSON value/)
    const ok = { a: ['😀', 1, null, true, { b: 'é' }] }
    expect(check('json', ok)).toEqual(ok)
  })

  test('json values nest at most 64 levels, and one nested deeper is refused saying so', () => {
    const nested = (levels: number): unknown => { let v: unknown = 1; for (let i = 0; i < levels; i++) v = i % 2 ? { k: v } : [v]; return v }
    expect(check('json', nested(65))).toEqual(nested(65))
    expect(check('json', nested(66))).toBe('refused: expected a JSON value nested at most 64 levels deep (objects and arrays within each other; this one goes deeper)')
    expect(check('json', nested(10_000))).toMatch(/nested at most 64 levels deep/)
  })

  test('media references are text too', () => {
    expect(check('image', '/tmp/a\u0000.png')).toMatch(/^refused: contains U\+0000/)
  })

  test('isStorableText and textProblem agree', () => {
    for (const s of ['', 'abc', 'é', '😀', '\u0000', 'a\ud800', '\udc00', '\ud800\udc00', 'x\ud800\udc00\ud800']) {
      expect({ s, ok: isStorableText(s) }).toEqual({ s, ok: textProblem(s) === undefined })
    }
  })
})
