// Shared scenarios, run on every store by test/store/<store>.test.ts (moved here from test/query/operators.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Expr, Table } from '../../src/index.ts'
import { call, coalesce, ifElse, lit, not } from '../../src/index.ts'
import { planQuery } from '../../src/query/planner.ts'
import type { Fixture } from './fixture.ts'
import { fixture, tsOnly, values } from './fixture.ts'

// Every operator and built-in function against a hand-computed answer, once compiled to SQL and once evaluated in
// TypeScript (columns wrapped in the TS-only ts_id()), over the fixture rows (ids 1..5):
//   i = 7, -7, 0, null, 3          f = 1.5, null, -2.25, 0, 10       b = true, false, null, true, false
//   s = 'Hello World', 'bye', null, '', 'HELLO'                     arr = [1,2,3], [4,5], null, [], [9]
//   j = {a:[1,2,3],b:'x',n:5,items:[{name:p},{name:q}]}, {a:[5],n:2}, null, {a:[],items:[]}, [1,2]
//   ts = 2024-01-01, 2024-06-15T12:30, null, 2023-03-04T05:06:07, 2025-01-01   d = 2024-02-03, 2023-12-31, null, 2024-02-29, 2025-01-01
import type { MakeDb } from './make-db.ts'
import { isRemote } from './make-db.ts'

export function operatorsSuite(makeDb: MakeDb): void {
  let fx: Fixture
  beforeAll(async () => { fx = await fixture(makeDb) })
  afterAll(async () => { await fx.db.close() })

  type C = Table['c']
  const N = null
  const CASES: [string, (c: C) => Expr, unknown[]][] = [
    // comparisons; == null means IS NULL, any other comparison with null is null
    ['eq', (c) => c.i.eq(7), [true, false, false, N, false]],
    ['ne', (c) => c.i.ne(7), [false, true, true, N, true]],
    ['gt', (c) => c.f.gt(0), [true, N, false, false, true]],
    ['ge', (c) => c.i.ge(0), [true, false, true, N, true]],
    ['lt', (c) => c.i.lt(0), [false, true, false, N, false]],
    ['le', (c) => c.f.le(0), [false, N, true, true, false]],
    ['eq null', (c) => c.f.eq(null), [false, true, false, false, false]],
    ['ne null', (c) => c.f.ne(null), [true, false, true, true, true]],
    ['is_null', (c) => c.s.isNull(), [false, false, true, false, false]],
    ['is_not_null', (c) => c.s.isNotNull(), [true, true, false, true, true]],
    ['string eq', (c) => c.s.eq('bye'), [false, true, N, false, false]],
    ['timestamp gt iso string', (c) => c.ts.gt('2024-03-01T00:00:00Z'), [false, true, N, false, true]],
    ['timestamp eq Date', (c) => c.ts.eq(new Date('2024-01-01T00:00:00Z')), [true, false, N, false, false]],
    ['date eq string', (c) => c.d.eq('2024-02-03'), [true, false, N, false, false]],
    ['date lt string', (c) => c.d.lt('2024-01-01'), [false, true, N, false, false]],
    ['int vs float', (c) => c.i.gt(c.f), [true, N, true, N, false]],
    // three-valued logic: false and null = false, true or null = true, not null = null
    ['and', (c) => c.b.and(c.i.gt(0)), [true, false, false, N, false]],
    ['or', (c) => c.b.or(c.i.gt(0)), [true, false, N, true, true]],
    ['not', (c) => c.b.not(), [false, true, N, false, true]],
    ['not()', (c) => not(c.i.eq(0)), [true, true, false, N, true]],
    // arithmetic: / is true division, // and % follow Python (floor, sign of the divisor), x / 0 and x % 0 are null
    ['add', (c) => c.i.add(2), [9, -5, 2, N, 5]],
    ['add int+float', (c) => c.i.add(c.f), [8.5, N, -2.25, N, 13]],
    ['add strings', (c) => c.s.add('!'), ['Hello World!', 'bye!', N, '!', 'HELLO!']],
    ['sub', (c) => c.i.sub(1), [6, -8, -1, N, 2]],
    ['mul', (c) => c.f.mul(2), [3, N, -4.5, 0, 20]],
    ['mul by -1 (no -0)', (c) => c.i.mul(-1), [-7, 7, 0, N, -3]],
    ['div', (c) => c.i.div(2), [3.5, -3.5, 0, N, 1.5]],
    ['div by zero', (c) => c.i.div(0), [N, N, N, N, N]],
    ['div by zero column', (c) => c.i.div(c.f), [7 / 1.5, N, -0, N, 0.3]],
    ['floordiv', (c) => c.i.floordiv(2), [3, -4, 0, N, 1]],
    ['floordiv negative', (c) => c.i.floordiv(-2), [-4, 3, 0, N, -2]],
    ['floordiv float', (c) => c.f.floordiv(2), [0, N, -2, 0, 5]],
    ['floordiv by zero', (c) => c.i.floordiv(0), [N, N, N, N, N]],
    ['mod', (c) => c.i.mod(3), [1, 2, 0, N, 0]],
    ['mod negative divisor', (c) => c.i.mod(-3), [-2, -1, 0, N, 0]],
    ['mod float', (c) => c.f.mod(2), [1.5, N, 1.75, 0, 0]],
    ['mod by zero', (c) => c.i.mod(0), [N, N, N, N, N]],
    ['neg', (c) => c.i.neg(), [-7, 7, 0, N, -3]],
    // isin
    ['isin numbers', (c) => c.i.isin([7, 3]), [true, false, false, N, true]],
    ['isin strings', (c) => c.s.isin(['bye', 'HELLO']), [false, true, N, false, true]],
    ['isin empty list', (c) => c.i.isin([]), [false, false, false, false, false]],
    ['isin floats', (c) => c.f.isin([0, 10.0]), [false, N, false, true, true]],
    // strings
    ['contains', (c) => c.s.contains('ll'), [true, false, N, false, false]],
    ['startswith', (c) => c.s.startswith('He'), [true, false, N, false, false]],
    ['endswith', (c) => c.s.endswith('LO'), [false, false, N, false, true]],
    ['lower', (c) => c.s.lower(), ['hello world', 'bye', N, '', 'hello']],
    ['upper', (c) => c.s.upper(), ['HELLO WORLD', 'BYE', N, '', 'HELLO']],
    ['capitalize', (c) => c.s.capitalize(), ['Hello world', 'Bye', N, '', 'Hello']],
    ['strip', (c) => c.s.concat('  ').strip(), ['Hello World', 'bye', N, '', 'HELLO']],
    ['len string', (c) => c.s.len(), [11, 3, N, 0, 5]],
    ['find', (c) => c.s.find('l'), [2, -1, N, -1, -1]],
    ['replace', (c) => c.s.replace('l', 'L'), ['HeLLo WorLd', 'bye', N, '', 'HELLO']],
    ['concat', (c) => c.s.concat('!'), ['Hello World!', 'bye!', N, '!', 'HELLO!']],
    ['regex', (c) => c.s.match('^h'), [false, false, N, false, false]],
    ['regex case-insensitive', (c) => c.s.match('^h.*o$', 'i'), [false, false, N, false, true]],
    ['regex_replace', (c) => c.s.regexReplace('l+', 'X'), ['HeXo WorXd', 'bye', N, '', 'HELLO']],
    ['regex_replace case-insensitive', (c) => c.s.regexReplace('l+', 'X', 'i'), ['HeXo WorXd', 'bye', N, '', 'HEXO']],
    ['substr', (c) => c.s.substr(1, 3), ['el', 'ye', N, '', 'EL']],
    ['substr negative end', (c) => c.s.substr(1, -1), ['ello Worl', 'y', N, '', 'ELL']],
    ['substr negative start', (c) => c.s.substr(-3), ['rld', 'bye', N, '', 'LLO']],
    // JSON paths
    ['json key', (c) => c.j.path('n'), [5, 2, N, N, N]],
    ['json get', (c) => c.j.get('b'), ['x', N, N, N, N]],
    ['json index', (c) => c.j.path('a[0]'), [1, 5, N, N, N]],
    ['json negative index', (c) => c.j.path('a[-1]'), [3, 5, N, N, N]],
    ['json wildcard', (c) => c.j.path('items[*].name'), [['p', 'q'], [], N, [], []]],
    ['json object wildcard', (c) => c.j.path('items[0].*'), [['p'], [], N, [], []]],
    ['json compare', (c) => c.j.path('n').gt(3), [true, false, N, N, N]],
    ['json len', (c) => c.j.len(), [4, 2, N, 2, 2]],
    ['json_dumps', (c) => call('json_dumps', [c.j.path('a')]), ['[1, 2, 3]', '[5]', N, '[]', N]],
    // arrays: Python indexing and slicing
    ['len array', (c) => c.arr.len(), [3, 2, N, 0, 1]],
    ['at', (c) => c.arr.at(0), [1, 4, N, N, 9]],
    ['at negative', (c) => c.arr.at(-1), [3, 5, N, N, 9]],
    ['slice', (c) => c.arr.slice(1), [[2, 3], [5], N, [], []]],
    ['slice negative start', (c) => c.arr.slice(-2), [[2, 3], [4, 5], N, [], [9]]],
    ['slice negative end', (c) => c.arr.slice(0, -1), [[1, 2], [4], N, [], []]],
    ['json slice', (c) => c.j.path('a').slice(-2), [[2, 3], [5], N, [], N]],
    ['json slice both ends', (c) => c.j.path('a').slice(1, -1), [[2], [], N, [], N]],
    ['json at', (c) => c.j.path('a').at(-2), [2, N, N, N, N]],
    // casts
    ['int to string', (c) => c.i.astype('string'), ['7', '-7', '0', N, '3']],
    ['int to float', (c) => c.i.astype('float'), [7, -7, 0, N, 3]],
    ['float to int (rounds)', (c) => c.f.astype('int'), [2, N, -2, 0, 10]],
    ['int to bool', (c) => c.i.astype('bool'), [true, true, false, N, true]],
    // Postgres casts boolean to integer only (not bigint or double precision): as Python's int(True), float(False)
    ['bool to int', (c) => c.b.astype('int'), [1, 0, N, 1, 0]],
    ['bool to float', (c) => c.b.astype('float'), [1, 0, N, 1, 0]],
    ['json to int', (c) => c.j.path('n').astype('int'), [5, 2, N, N, N]],
    ['string to int', (c) => c.i.astype('string').astype('int').add(1), [8, -6, 1, N, 4]],
    // conditionals
    ['coalesce', (c) => coalesce(c.f, c.i), [1.5, -7, -2.25, 0, 10]],
    ['if_else', (c) => ifElse(c.b, c.i, 100), [7, 100, 100, N, 100]],
    ['literal', () => lit('k'), ['k', 'k', 'k', 'k', 'k']],
  ]

  describe('operators: SQL and TypeScript agree with hand-computed answers', () => {
    for (const [name, make, expected] of CASES) {
      test(name, async () => {
        const e = make(fx.t.c)
        // The plans are the library's own; through HTTP only the values can be compared.
        if (!isRemote(fx.db) && name !== 'literal') {
          const sqlPlan = planQuery(fx.t.select({ v: e }).spec)
          const tsPlan = planQuery(fx.t.select({ v: tsOnly(e) }).spec)
          expect(sqlPlan.outputs[0]!.sqlKey).toBeDefined()
          expect(tsPlan.outputs[0]!.sqlKey).toBeUndefined()
        }
        // JSON has no -0: through HTTP a -0 arrives as 0.
        const want = isRemote(fx.db) ? expected.map((x) => (Object.is(x, -0) ? 0 : x)) : expected
        expect(await values(fx.t, e)).toEqual(want)
        expect(await values(fx.t, tsOnly(e))).toEqual(want)
      })
    }
  })

  describe('operators in where(): SQL filter and TypeScript filter keep the same rows', () => {
    const WHERE: [string, (c: C) => Expr, number[]][] = [
      ['== null', (c) => c.f.eq(null), [2]],
      ['!= null and', (c) => c.f.ne(null).and(c.i.ge(0)), [1, 3, 5]],
      ['or with null', (c) => c.b.or(c.i.gt(0)), [1, 4, 5]],
      ['not null-valued', (c) => c.b.not(), [2, 5]],
      ['isin', (c) => c.s.isin(['bye', 'HELLO']), [2, 5]],
      ['regex i', (c) => c.s.match('WORLD', 'i'), [1]],
      ['json wildcard len', (c) => c.j.path('items[*].name').len().gt(0), [1]],
    ]
    for (const [name, make, ids] of WHERE) {
      test(name, async () => {
        const e = make(fx.t.c)
        expect((await fx.t.where(e).orderBy('id').collect()).column('id')).toEqual(ids)
        const ts = fx.t.where(tsOnly(e)).orderBy('id')
        if (!isRemote(fx.db)) expect(planQuery(ts.spec).tsWhere.length).toBeGreaterThan(0)
        expect((await ts.collect()).column('id')).toEqual(ids)
      })
    }
  })

  describe('casts that fail name the expression, in SQL and in TypeScript', () => {
    test('string → int', async () => {
      const e = fx.t.c.s.astype('int')
      for (const q of [fx.t.select({ v: e }), fx.t.select({ v: tsOnly(e) })]) {
        const err = await q.collect().then(() => undefined, (x) => x)
        expect(err?.code).toBe('INVALID_EXPRESSION')
        expect(err?.message).toMatch(/^cannot cast "Hello World" to int in astype\((ts_id\()?q\/t\.s\)?, type="int"\)$/)
      }
    })
    test('a cast no value can make (date → int, bool → timestamp) is refused before it runs, naming the expression', async () => {
      for (const [e, what] of [[fx.t.c.d.astype('int'), 'date to int'], [fx.t.c.b.astype('timestamp'), 'bool to timestamp']] as const) {
        for (const q of [fx.t.select({ v: e }), fx.t.select({ v: tsOnly(e) })]) {
          const err = await q.collect().then(() => undefined, (x) => x)
          expect(err?.code).toBe('INVALID_EXPRESSION')
          expect(err?.message).toContain(`cannot cast ${what} in astype(`)
        }
      }
    })
    test('string → bool', async () => {
      const err = await fx.t.select({ v: tsOnly(fx.t.c.s.astype('bool')) }).collect().then(() => undefined, (x) => x)
      expect(err?.message).toContain('cannot cast "Hello World" to bool')
    })
  })
}
