import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { checkPatternSyntax, MAX_PATTERN_LENGTH, userRegex } from '../../src/functions/regex.ts'
import { tsOnly } from '../query/fixture.ts'
import { memoryDb } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// match and regex_replace: user patterns run on Postgres in SQL and on RE2 (re2js, linear time) in TypeScript. Both
// sides must give the same answers on the syntax they share, refuse the same patterns when the query is built, and
// the TypeScript side must not backtrack: '^(a+)+$' on 'aaaa...b' took ~0.8 s per row at 30 characters with RegExp.

let db: Tessera
let t: Table
const TEXTS = ['Hello World', 'hello\nworld', 'aaa', 'abab', '<b>x</b><i>y</i>', 'xyyy', 'ab', '', 'héé É', 'a.b?c', 'tab\there', 'x😀y😀', 'a1b22c333', 'foo_bar-baz', '[a]{1}', 'path\\to']
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('rx', { id: 'int', s: 'string' })
  await t.insert(TEXTS.map((s, id) => ({ id, s })))
}, 120_000)
afterAll(() => db?.close())

const both = async (make: (c: Table['c']) => ReturnType<Table['c']['s']['match']>) => {
  const sql = (await t.orderBy(t.c.id).select({ v: make(t.c) }).collect()).rows.map((r) => r.v)
  const ts = (await t.orderBy(t.c.id).select({ v: tsOnly(make(t.c)) }).collect()).rows.map((r) => r.v)
  return { sql, ts }
}

const PATTERNS = ['^h', 'o$', 'l+', 'L+', '.', 'o.w', 'o[^x]w', '^world', 'hello$', 'a|ab', '(a|ab)(c|bcd)?', 'a*', 'b*', 'x*', '[[:alpha:]]+', '[[:digit:]]{2,}',
  '\\d+', '\\D', '\\s+', '\\S+', '\\w+', '[\\w-]+', '[]a]+', '[^]a]', '[a-c]+', '\\.', 'a\\.b\\?', '(ab)+', '(?:ab){2}', 'a{2}', 'a{1,2}', 'x{,3}', '\\[a\\]', '\\\\',
  '<.*?>', '<.*>', '<[a-z]+>.*?</[a-z]+>', 'a*?', '😀', '.y', 'É', 'é+', '\\Aa', '()', 'a|', '\\tt', '[\\d]+', '(a)(b)?', 'e\\{1\\}']

describe('match and regex_replace agree in SQL and TypeScript', () => {
  // Known difference (documented in src/functions/regex.ts): \w and [:alpha:] are ASCII in RE2 but follow the
  // database's Unicode locale in Postgres, so they are compared on ASCII text only.
  const unicodeClass = (p: string) => /\\w|\[:alpha:\]/.test(p)
  const comparable = (p: string, v: unknown[]) => v.filter((_, i) => !unicodeClass(p) || /^[\x00-\x7f]*$/.test(TEXTS[i]!))

  test('match', async () => {
    for (const p of PATTERNS) {
      for (const flags of [undefined, 'i'] as const) {
        const { sql, ts } = await both((c) => c.s.match(p, flags))
        expect([p, flags, comparable(p, ts)]).toEqual([p, flags, comparable(p, sql)])
      }
    }
  })

  test('regex_replace, with Postgres replacement syntax and choice of match', async () => {
    for (const p of [...PATTERNS, '(a+?)', 'l+?o', '[ab]*?b']) {
      for (const r of ['-', '[\\&]', '<\\1|\\2>', '\\\\\\x$1$&\\0\\9']) {
        const { sql, ts } = await both((c) => c.s.regexReplace(p, r))
        expect([p, r, comparable(p, ts)]).toEqual([p, r, comparable(p, sql)])
      }
      const { sql, ts } = await both((c) => c.s.regexReplace(p, '#', 'i'))
      expect([p, 'i', comparable(p, ts)]).toEqual([p, 'i', comparable(p, sql)])
    }
  })

  test('a lazy-first pattern with greedy parts is refused for replacing (Postgres and RE2 pick different matches)', async () => {
    for (const p of ['x.*?y+', '(a+?)(b*)', 'a*?(bc|b)', '(a|b)*?c']) {
      for (const e of [t.c.s.regexReplace(p, '-'), tsOnly(t.c.s.regexReplace(p, '-'))])
        await expect(await throwing(t.select({ v: e }).collect())).toThrow(/first quantifier is lazy cannot also have greedy quantifiers or \| alternatives/)
      const { sql, ts } = await both((c) => c.s.match(p))
      expect(ts).toEqual(sql)
    }
  })
})

describe('patterns outside the common syntax are refused in both, when the query is built', () => {
  const REFUSED: [string, RegExp][] = [
    ['(a)\\1', /backreferences and octal escapes \(\\1\) are not supported/],
    ['\\0', /backreferences and octal escapes/],
    ['(?=a)a', /lookahead/],
    ['a(?!b)', /lookahead/],
    ['(?<=a)b', /lookbehind/],
    ['(?<!a)b', /lookbehind/],
    ['(?<n>a)', /named groups/],
    ['(?P<n>a)', /named groups/],
    ['(?i)a', /embedded options.*opts\.flags 'i'/],
    ['(?#c)a', /comments/],
    ['***=a', /\*\*\* directors/],
    ['\\bfoo', /\\b is not supported: Postgres reads it as a backspace, RE2 as a word boundary/],
    ['\\x41', /the escape \\x is not supported/],
    ['\\pL', /the escape \\p is not supported/],
    ['\\y', /the escape \\y is not supported/],
    ['a\\Z', /the escape \\Z/],
    ['\\Qa', /the escape \\Q/],
    ['a{256}', /repetition counts above 255/],
    ['a{1', /a repetition count must be/],
    ['a{3,1}', /maximum below its minimum/],
    ['a**', /a quantifier cannot follow another one/],
    ['a{1}{2}', /a quantifier cannot follow another one/],
    ['*a', /the quantifier \* has nothing to repeat/],
    ['^*', /an anchor cannot be repeated/],
    ['[[.a.]]', /collating elements/],
    ['[[:word:]]', /unknown character class \[:word:\]/],
    ['[\\d-z]', /a character class cannot start a range/],
    ['[a-\\d]', /a character class cannot end a range/],
    ['[a', /a bracket expression \[ is not closed/],
    ['(a', /a parenthesis \( is not closed/],
    ['a)', /a parenthesis \) has no matching \(/],
    ['a\\', /lone backslash/],
    ['(.{200}){200}', /invalid repeat count/],
  ]

  test('each with its reason, for match and regex_replace, in SQL and in TypeScript', async () => {
    for (const [p, why] of REFUSED) {
      // The syntax check refuses all but the last (which RE2's compiler refuses: its repetitions nest past 1,000).
      if (!p.startsWith('(.{')) expect(() => checkPatternSyntax(p)).toThrow(why)
      for (const e of [t.c.s.match(p), tsOnly(t.c.s.match(p)), t.c.s.regexReplace(p, 'x'), tsOnly(t.c.s.regexReplace(p, 'x'))]) {
        const f = await throwing(t.select({ v: e }).collect())
        expect(f).toThrow(why)
        expect(f).toThrow(/(match|regex_replace)\(\) cannot use the regular expression/)
      }
    }
  })

  test(`a pattern is at most ${MAX_PATTERN_LENGTH} characters`, async () => {
    expect(MAX_PATTERN_LENGTH).toBe(1000)
    const ok = 'a'.repeat(1000)
    expect((await t.select({ v: tsOnly(t.c.s.match(ok)) }).limit(1).collect()).rows[0]!.v).toBe(false)
    for (const e of [t.c.s.match(`${ok}a`), tsOnly(t.c.s.match(`${ok}a`))]) {
      await expect(await throwing(t.select({ v: e }).collect())).toThrow(/match\(\) cannot use the regular expression "a+"\.\.\.: the pattern is 1001 characters long; at most 1000 are allowed/)
    }
  })
})

describe('TypeScript matching is linear', () => {
  test('nested quantifiers on long inputs that never match', () => {
    const t0 = performance.now()
    const evil = `${'a'.repeat(200_000)}b`
    expect(userRegex('^(a+)+$', false).test(evil)).toBe(false)
    expect(userRegex('(a|aa)+$', false).test(`${'a'.repeat(200_000)}!`)).toBe(false)
    expect(userRegex('^(\\w+\\s?)*$', false).test(`${'word '.repeat(40_000)}!`)).toBe(false)
    expect(userRegex('(a+)+b', false).replaceAll(evil.slice(0, -1), 'x')).toBe(evil.slice(0, -1))
    expect(userRegex('a*', false).replaceAll('a'.repeat(100_000), 'x')).toBe('xx')
    // With RegExp each of these takes longer than the age of the universe.
    expect(performance.now() - t0).toBeLessThan(5_000)
  })

  test('a read-only query over a computed argument (evaluated in TypeScript) answers at once', async () => {
    const long = await db.createTable('long', { id: 'int', s: 'string' })
    await long.insert(Array.from({ length: 20 }, (_, id) => ({ id, s: `${'a'.repeat(5_000)}b` })))
    const t0 = performance.now()
    const rows = (await long.select({ m: tsOnly(long.c.s.concat('').match('^(a+)+$')) }).collect()).rows
    expect(rows.map((r) => r.m)).toEqual(Array(20).fill(false))
    expect(performance.now() - t0).toBeLessThan(5_000)
  })
})
