import { expect, test } from 'bun:test'
import { READ_HOLD_IDLE_MS, ReadHolds, readHoldsOf } from '../../src/catalog/read-holds.ts'

// The versions streams in flight hold against compaction (src/catalog/read-holds.ts): the oldest per table, released
// when a stream ends, renewed by every page, and lapsed when a reader walked away without closing its stream.

test('the oldest held version per table; release is idempotent and frees only its own hold', () => {
  const holds = new ReadHolds()
  expect(holds.oldest(1)).toBeUndefined()
  const a = holds.hold(1, 5)
  const b = holds.hold(1, 3)
  const c = holds.hold(2, 9)
  expect(holds.oldest(1)).toEqual({ version: 3, reads: 2 })
  expect(holds.oldest(2)).toEqual({ version: 9, reads: 1 })
  b.release()
  b.release()
  expect(holds.oldest(1)).toEqual({ version: 5, reads: 1 })
  // Two streams at the same version: one ending leaves the other's hold.
  const d = holds.hold(1, 5)
  a.release()
  expect(holds.oldest(1)).toEqual({ version: 5, reads: 1 })
  d.release()
  c.release()
  expect(holds.oldest(1)).toBeUndefined()
  expect(holds.size).toBe(0)
})

test('an abandoned hold lapses after the idle period; a page read renews it; a released one is not renewed', () => {
  let now = 1_000_000
  const holds = new ReadHolds({ idleMs: 60_000, now: () => now })
  const reading = holds.hold(7, 2)
  const abandoned = holds.hold(7, 1)
  now += 50_000
  reading.renew()
  now += 50_000
  // 100 s since the abandoned one was seen, 50 s since the reading one read a page.
  expect(holds.oldest(7)).toEqual({ version: 2, reads: 1 })
  expect(holds.size).toBe(1)
  abandoned.renew()
  expect(holds.oldest(7)).toEqual({ version: 2, reads: 1 })
  reading.release()
  reading.renew()
  expect(holds.oldest(7)).toBeUndefined()
  expect(READ_HOLD_IDLE_MS).toBeGreaterThanOrEqual(10 * 60_000)
})

test('one registry per store connection', () => {
  const a = {}
  const b = {}
  expect(readHoldsOf(a)).toBe(readHoldsOf(a))
  expect(readHoldsOf(a)).not.toBe(readHoldsOf(b))
})
