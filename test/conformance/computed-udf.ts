// Shared scenarios, run on every store by test/store/<store>.test.ts (moved here from test/compute/udf.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { agg } from '../../src/index.ts'
import type { Table, Tessera } from '../../src/index.ts'
import { uda, udf } from '../../src/compute/udf.ts'
import { checkResponse, HttpError, isTransient, TransientError, withRetry } from '../../src/compute/retry.ts'
import type { MakeDb } from './make-db.ts'
import { throwing } from '../support/settle.ts'

export function computedUdfSuite(makeDb: MakeDb): void {
  let db: Tessera
  let t: Table

  beforeAll(async () => {
    db = await makeDb()
    t = await db.createTable('u', { id: 'int', g: 'string', text: 'string?', n: 'int?' }, { primaryKey: 'id' })
    await t.insert([
      { id: 1, g: 'a', text: 'hello', n: 2 },
      { id: 2, g: 'a', text: 'bad', n: 3 },
      { id: 3, g: 'b', text: 'world!', n: 4 },
      { id: 4, g: 'b', text: null, n: null },
    ])
  }, 120_000)
  afterAll(() => db.close())

  describe('udf', () => {
    test('row-at-a-time UDF in select and computed columns; per-cell errors; fix and recompute errorsOnly', async () => {
      let calls = 0
      const shout = udf({
        name: 'test_shout', returns: 'string', params: ['string'],
        fn: (s: string) => {
          calls++
          if (s === 'bad') throw new RangeError(`cannot shout '${s}'`)
          return `${s.toUpperCase()}!`
        },
      })
      expect((await t.where(t.c.id.eq(1)).select({ s: shout(t.c.text) }).collect()).rows).toEqual([{ s: 'HELLO!' }])

      // abort (the default) refuses the column and names the row and column
      await expect(await throwing(t.addComputedColumn('loud', shout(t.c.text)))).toThrow(/cannot shout 'bad'/)
      const added = await t.addComputedColumn('loud', shout(t.c.text), { onError: 'ignore' })
      expect(added.numExcs).toBe(1)
      expect(added.colsWithExcs).toEqual(['loud'])

      calls = 0
      const st = await t.insert([{ id: 5, g: 'c', text: 'bad', n: 1 }, { id: 6, g: 'c', text: 'ok', n: 1 }], { onError: 'ignore' })
      expect(st.numInserted).toBe(2)
      expect(st.numComputedValues).toBe(2)
      expect(st.numExcs).toBe(1)
      expect(st.colsWithExcs).toEqual(['loud'])
      expect(calls).toBeGreaterThanOrEqual(2)

      const rows = (await t.select({ id: t.c.id, loud: t.c.loud, et: t.c.loud.errortype, em: t.c.loud.errormsg }).orderBy(t.c.id).collect()).rows
      expect(rows).toEqual([
        { id: 1, loud: 'HELLO!', et: null, em: null },
        { id: 2, loud: null, et: 'RangeError', em: "cannot shout 'bad'" },
        { id: 3, loud: 'WORLD!!', et: null, em: null },
        { id: 4, loud: null, et: null, em: null }, // null input: no call, null result
        { id: 5, loud: null, et: 'RangeError', em: "cannot shout 'bad'" },
        { id: 6, loud: 'OK!', et: null, em: null },
      ])
      expect(await t.where(t.c.loud.errortype.eq('RangeError')).count()).toBe(2)

      // Redefining the UDF under the same name replaces it; recompute only the failed cells.
      calls = 0
      udf({ name: 'test_shout', returns: 'string', params: ['string'], fn: (s: string) => (calls++, `${s.toUpperCase()}!`) })
      const re = await t.recomputeColumns('loud', { errorsOnly: true })
      expect(calls).toBe(2)
      expect(re.numExcs).toBe(0)
      const fixed = (await t.select({ id: t.c.id, loud: t.c.loud, et: t.c.loud.errortype }).where(t.c.id.isin([2, 5])).orderBy(t.c.id).collect()).rows
      expect(fixed).toEqual([{ id: 2, loud: 'BAD!', et: null }, { id: 5, loud: 'BAD!', et: null }])
      await t.delete({ where: t.c.id.ge(5) })
      await t.dropColumn('loud')
    })

    test('argument types are checked', async () => {
      const inc = udf({ name: 'test_inc', returns: 'int', params: ['int'], fn: (x: number) => x + 1 })
      await expect(await throwing(t.select({ x: inc(t.c.text) }).collect())).toThrow(/test_inc\(\) argument 1 must be int, got string/)
      await expect(await throwing(t.select({ x: inc(t.c.n, t.c.n) }).collect())).toThrow(/takes 1 arguments, got 2/)
      expect((await t.select({ x: inc(t.c.n) }).orderBy(t.c.id).collect()).rows.map((r) => r.x)).toEqual([3, 4, 5, null])
    })

    test('a returned value of the wrong type becomes a per-cell TypeError', async () => {
      const wrong = udf({ name: 'test_wrong', returns: 'int', fn: (s: string) => (s === 'hello' ? 'not a number' : 1) })
      const st = await t.addComputedColumn('w', wrong(t.c.text), { onError: 'ignore' })
      expect(st.numExcs).toBe(1)
      const r = (await t.where(t.c.id.eq(1)).select({ w: t.c.w, et: t.c.w.errortype }).collect()).rows[0]
      expect(r).toEqual({ w: null, et: 'TypeError' })
      await t.dropColumn('w')
    })

    test('batched UDF gets arrays of at most batchSize rows', async () => {
      const sizes: number[] = []
      const lens = udf({
        name: 'test_lens', returns: 'int', batchSize: 2,
        fn: async (texts: string[], ns: number[]) => (sizes.push(texts.length), texts.map((s, i) => s.length * ns[i]!)),
      })
      const rows = (await t.select({ id: t.c.id, l: lens(t.c.text, t.c.n) }).orderBy(t.c.id).collect()).rows
      expect(rows.map((r) => r.l)).toEqual([10, 9, 24, null])
      expect(sizes).toEqual([2, 1]) // row 4 has null inputs and is never sent
    })

    test('a batched UDF returning the wrong number of results fails clearly', async () => {
      const bad = udf({ name: 'test_badbatch', returns: 'int', batchSize: 10, fn: async (xs: number[]) => xs.slice(1) })
      await expect(await throwing(t.select({ x: bad(t.c.n) }).collect())).toThrow(/one result per input: got 2 for 3/)
    })

    test('async UDF respects its concurrency limit', async () => {
      let inFlight = 0
      let peak = 0
      const slow = udf({
        name: 'test_slow', returns: 'int', concurrency: 2,
        fn: async (x: number) => {
          peak = Math.max(peak, ++inFlight)
          await Bun.sleep(20)
          inFlight--
          return x * 10
        },
      })
      const rows = (await t.select({ x: slow(t.c.id) }).orderBy(t.c.id).collect()).rows
      expect(rows.map((r) => r.x)).toEqual([10, 20, 30, 40])
      expect(peak).toBe(2)
    })

    test('rate limit spaces calls', async () => {
      const stamps: number[] = []
      const limited = udf({ name: 'test_limited', returns: 'int', rateLimit: { perSecond: 20 }, concurrency: 8, fn: (x: number) => (stamps.push(performance.now()), x) })
      const ids = Array.from({ length: 30 }, (_, i) => i)
      const many = await db.createTable('many', { i: 'int' })
      await many.insert(ids.map((i) => ({ i })))
      const t0 = performance.now()
      const rows = (await many.select({ x: limited(many.c.i) }).collect()).rows
      const elapsed = performance.now() - t0
      expect(rows.map((r) => r.x)).toEqual(ids)
      // a burst of 20, then 10 more at 20/s: at least ~0.5 s
      expect(elapsed).toBeGreaterThan(400)
      expect(elapsed).toBeLessThan(3000)
    })

    test('retries transient failures with backoff, not permanent ones', async () => {
      const attempts = new Map<number, number>()
      const flaky = udf({
        name: 'test_flaky', returns: 'int', retries: { max: 3, backoffMs: 5 },
        fn: (x: number) => {
          const k = (attempts.get(x) ?? 0) + 1
          attempts.set(x, k)
          if (x === 99) throw new HttpError('bad request', 400)
          if (k < 3) throw new TransientError('try later', { status: 503 })
          return x
        },
      })
      const rows = (await t.select({ x: flaky(t.c.n) }).orderBy(t.c.id).collect()).rows
      expect(rows.map((r) => r.x)).toEqual([2, 3, 4, null])
      expect(attempts.get(2)).toBe(3)
      await t.insert({ id: 99, g: 'z', text: 'x', n: 99 })
      await expect(await throwing(t.where(t.c.id.eq(99)).select({ x: flaky(t.c.n) }).collect())).toThrow(/bad request/)
      expect(attempts.get(99)).toBe(1)
      await t.delete({ where: t.c.id.eq(99) })
    })

    test('retry helpers classify errors and fetch responses', async () => {
      expect(isTransient(new TransientError('x'))).toBe(true)
      expect(isTransient(Object.assign(new Error('x'), { status: 429 }))).toBe(true)
      expect(isTransient(Object.assign(new Error('x'), { status: 404 }))).toBe(false)
      expect(isTransient(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true)
      expect(isTransient(new TypeError('fetch failed'))).toBe(true)
      expect(isTransient(new RangeError('nope'))).toBe(false)
      const e429 = await checkResponse(new Response('slow down', { status: 429, headers: { 'retry-after': '2' } })).catch((e) => e)
      expect(e429).toBeInstanceOf(TransientError)
      expect(e429.retryAfterMs).toBe(2000)
      const e400 = await checkResponse(new Response('{"error":"bad"}', { status: 400 })).catch((e) => e)
      expect(e400).toBeInstanceOf(HttpError)
      expect(e400.message).toContain('HTTP 400')
      let n = 0
      expect(await withRetry(async () => (++n < 3 ? Promise.reject(new TransientError('t')) : n), { max: 5, backoffMs: 1 })).toBe(3)
      n = 0
      await expect(await throwing(withRetry(async () => (++n, Promise.reject(new TransientError('always'))), { max: 2, backoffMs: 1 }))).toThrow('always')
      expect(n).toBe(3)
    })
  })

  describe('uda', () => {
    test('user aggregate with and without groupBy, mixed with SQL aggregates', async () => {
      const product = uda({ name: 'test_product', returns: 'int', params: ['int'], init: () => 1, step: (s: number, x: number) => s * x })
      const concat = uda({ name: 'test_concat', returns: 'string', init: () => [] as string[], step: (s: string[], x: string) => [...s, x], final: (s) => s.join('+') })
      const byGroup = (await t.groupBy(t.c.g).select({ g: t.c.g, p: product(t.c.n), c: concat(t.c.text), n: agg.count(), s: agg.sum(t.c.n), avg: agg.sum(t.c.n).div(agg.count()) }).orderBy(t.c.g).collect()).rows
      expect(byGroup).toEqual([
        { g: 'a', p: 6, c: 'hello+bad', n: 2, s: 5, avg: 2.5 },
        { g: 'b', p: 4, c: 'world!', n: 2, s: 4, avg: 2 },
      ])
      expect((await t.select({ p: product(t.c.n) }).collect()).rows).toEqual([{ p: 24 }])
      // ordering and limiting groups by a user aggregate
      const top = (await t.groupBy(t.c.g).select({ g: t.c.g, p: product(t.c.n) }).orderBy(product(t.c.n), 'desc').limit(1).collect()).rows
      expect(top).toEqual([{ g: 'a', p: 6 }])
      // grouping by a UDF key
      const parity = udf({ name: 'test_parity', returns: 'string', fn: (x: number) => (x % 2 === 0 ? 'even' : 'odd') })
      const byParity = (await t.where(t.c.n.isNotNull()).groupBy(parity(t.c.n)).select({ k: parity(t.c.n), n: agg.count() }).orderBy(parity(t.c.n)).collect()).rows
      expect(byParity).toEqual([{ k: 'even', n: 2 }, { k: 'odd', n: 1 }])
      // over no rows: one row, like SQL
      expect((await t.where(t.c.id.gt(100)).select({ p: product(t.c.n), n: agg.count() }).collect()).rows).toEqual([{ p: 1, n: 0 }])
    })

    test('a UDA cannot be a computed column', async () => {
      const total = uda({ name: 'test_total', returns: 'int', init: () => 0, step: (s: number, x: number) => s + x })
      await expect(await throwing(t.addComputedColumn('tot', total(t.c.n)))).toThrow(/cannot aggregate/)
    })
  })
}
