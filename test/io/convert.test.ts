import { expect, test } from 'bun:test'
import { ConvertError, converter } from '../../src/io/import/convert.ts'

// CSV cells read by the per-kind fast readers must give what the general rule gives: the same value, or the same
// refusal. Each case is a cell the fast reader takes, or one it must hand to the general rule.
const read = (type: string, cell: string | null | undefined): unknown => {
  try {
    return converter('c', type, true).convert(cell)
  } catch (e) {
    if (e instanceof ConvertError) return `error: ${e.message}`
    throw e
  }
}

test('text cells of plain types: fast readers agree with the general rule, edge forms included', () => {
  expect(read('int', '42')).toBe(42)
  expect(read('int', '-7')).toBe(-7)
  expect(read('int', ' 12 ')).toBe(12)
  expect(read('int', '+5')).toBe(5)
  expect(read('int', '1e3')).toBe('error: expected an integer')
  expect(read('int', '')).toMatch(/^error: a value is required/)
  expect(read('int?', '')).toBeNull()
  expect(read('int?', null)).toBeNull()
  expect(read('float', '0.25')).toBe(0.25)
  expect(read('float', '0')).toBe(0)
  expect(read('float', '-0.0')).toBe(-0)
  expect(read('float', 'NaN')).toMatch(/^error:/)
  expect(read('float', 'abc')).toBe('error: expected a number')
  expect(read('float', ' ')).toBe('error: expected a number')
  expect(read('bool', 'true')).toBe(true)
  expect(read('bool', 'false')).toBe(false)
  expect(read('bool', 'YES')).toBe(true)
  expect(read('bool', '0')).toBe(false)
  expect(read('bool', 'maybe')).toBe('error: expected true or false')
  expect(read('string', 'hello')).toBe('hello')
  expect(read('string', '')).toBe('')
  expect(read('string', null)).toMatch(/^error: a value is required/)
  expect(read('string?', null)).toBeNull()
  const ts = read('timestamp', '2024-01-01T00:01:02Z')
  expect(ts).toBeInstanceOf(Date)
  expect((ts as Date).toISOString()).toBe('2024-01-01T00:01:02.000Z')
  expect(read('timestamp', 'not a time')).toMatch(/^error:/)
  expect(read('timestamp?', '')).toBeNull()
})
