import { RE2JS } from 're2js'

// User regular expressions (match, regex_replace). In SQL they run as Postgres regexes (~, ~*, regexp_replace); in
// TypeScript they run on RE2 (re2js), whose matching time is linear in the input: JavaScript's RegExp backtracks, so
// a pattern such as '^(a+)+$' blocked the serving thread for as long as the input was long.
//
// Every pattern is checked when the query is built, the same way whichever side will run it, so a query never works
// in one and fails in the other. Accepted: the syntax both engines read alike — literals, '.', '^', '$', '|',
// groups '(...)' and '(?:...)', quantifiers '*' '+' '?' '{n}' '{n,}' '{n,m}' (n, m <= 255, Postgres's limit) and
// their lazy forms, bracket expressions with ranges and [:alpha:]-style classes, and the escapes \d \D \s \S \w \W
// \A \t \n \r \f \v \a and backslash before punctuation. Refused, with the reason: patterns over 1,000 characters,
// backreferences (\1) and octal escapes, lookaround ((?=, (?!, (?<=, (?<!), named groups, embedded options ((?i):
// use opts.flags 'i'), Postgres's '***' directors, collating elements, and escapes that mean something else (or
// nothing) in the other engine: \b (a backspace in Postgres, a word boundary in RE2), \B, \x, \u, \p, \Q, \y, \m,
// \Z, \z and the like.
//
// As in Postgres, '.' and negated brackets match a newline, and '^'/'$' match only at the ends of the text.
// regex_replace follows Postgres's choice of match too: the leftmost match, then the longest one unless the
// pattern's first quantifier is lazy (then the shortest, which RE2's Perl-like lazy matching gives while all of the
// pattern is lazy: regex_replace refuses a lazy-first pattern with greedy quantifiers or '|' as well); the
// replacement's \1..\9 and \& insert groups and the match, \\ a backslash, as regexp_replace does. Known
// difference left: \w, \d, \s and [:alpha:]-style classes are ASCII in RE2 and follow the database's Unicode
// locale in Postgres ('é' is \w there, not here).

export const MAX_PATTERN_LENGTH = 1000
const MAX_REPEAT = 255

/** A pattern the common subset refuses: the message says what and why. */
export class RegexSyntaxError extends Error {}

const CLASS_ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W'])
const CHAR_ESCAPES = new Set(['t', 'n', 'r', 'f', 'v', 'a'])
const POSIX_CLASSES = new Set(['alnum', 'alpha', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'xdigit'])
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isPunct = (c: string): boolean => /^[!-/:-@[-`{-~]$/.test(c)

type Pref = '' | 'greedy' | 'lazy'

/**
 * Checks a pattern against the common subset (one pass over it, recursion only into groups) and says whether
 * Postgres prefers the longest match for it (its greediness: that of the first quantifier with one, '|' greedy).
 */
export function checkPatternSyntax(p: string): { greedy: boolean; mixed: boolean } {
  if (p.length > MAX_PATTERN_LENGTH) throw new RegexSyntaxError(`the pattern is ${p.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`)
  let i = 0
  let sawGreedy = false
  let sawAlternative = false
  const fail = (msg: string): never => {
    throw new RegexSyntaxError(`${msg} (at character ${i + 1})`)
  }

  /** An escape at i (the backslash); returns whether it is a class (\d...), which cannot end a range. */
  const escape = (inBracket: boolean): 'class' | 'char' | 'anchor' => {
    const c = p[i + 1]
    if (c === undefined) return fail('the pattern ends with a lone backslash')
    if (isDigit(c)) return fail(`backreferences and octal escapes (\\${c}) are not supported`)
    if (c === 'b' || c === 'B') return fail(`\\${c} is not supported: Postgres reads it as ${c === 'b' ? 'a backspace' : 'a backslash'}, RE2 as a word boundary`)
    if (CLASS_ESCAPES.has(c) || CHAR_ESCAPES.has(c)) {
      i += 2
      return CLASS_ESCAPES.has(c) ? 'class' : 'char'
    }
    if (c === 'A' && !inBracket) {
      i += 2
      return 'anchor'
    }
    if (isPunct(c)) {
      i += 2
      return 'char'
    }
    return fail(`the escape \\${c} is not supported (it means something else, or nothing, in Postgres or RE2)`)
  }

  const bracket = (): void => {
    i++ // [
    if (p[i] === '^') i++
    if (p[i] === ']') i++ // a leading ']' is a literal
    while (i < p.length && p[i] !== ']') {
      const c = p[i]!
      let kind: 'class' | 'char'
      if (c === '[' && (p[i + 1] === '.' || p[i + 1] === '=')) return fail('collating elements and equivalence classes ([. .], [= =]) are not supported')
      if (c === '[' && p[i + 1] === ':') {
        const close = p.indexOf(':]', i + 2)
        const name = close < 0 ? '' : p.slice(i + 2, close)
        if (!POSIX_CLASSES.has(name)) return fail(`unknown character class [:${name}:]`)
        i = close + 2
        kind = 'class'
      } else if (c === '\\') {
        const k = escape(true)
        kind = k === 'class' ? 'class' : 'char'
      } else {
        i++
        kind = 'char'
      }
      // A range: both ends must be single characters (Postgres refuses [\d-z], RE2 reads it as a set).
      if (p[i] === '-' && p[i + 1] !== undefined && p[i + 1] !== ']') {
        if (kind === 'class') return fail('a character class cannot start a range')
        i++
        if (p[i] === '[' && (p[i + 1] === ':' || p[i + 1] === '.' || p[i + 1] === '=')) return fail('a character class cannot end a range')
        if (p[i] === '\\') {
          if (escape(true) === 'class') return fail('a character class cannot end a range')
        } else i++
      }
    }
    if (i >= p.length) fail('a bracket expression [ is not closed')
    i++ // ]
  }

  /** A quantifier at i, if any: its preference, or undefined when there is none. */
  const quantifier = (): Pref | undefined => {
    const c = p[i]
    let fixed = false
    if (c === '*' || c === '+' || c === '?') i++
    else if (c === '{' && isDigit(p[i + 1])) {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i, i + 12))
      if (!m) return fail('a repetition count must be {n}, {n,} or {n,m} (write \\{ for a literal brace)')
      const lo = Number(m[1])
      const hi = m[2] === undefined ? lo : m[3] === '' ? undefined : Number(m[3])
      if (lo > MAX_REPEAT || (hi !== undefined && hi > MAX_REPEAT)) return fail(`repetition counts above ${MAX_REPEAT} are not supported`)
      if (hi !== undefined && hi < lo) return fail(`the repetition count {${m[1]},${m[3]}} has its maximum below its minimum`)
      fixed = m[2] === undefined
      i += m[0].length
    } else return undefined
    let pref: Pref = fixed ? '' : 'greedy'
    if (p[i] === '?') {
      i++
      if (!fixed) pref = 'lazy'
    }
    if (pref === 'greedy') sawGreedy = true
    if (p[i] === '*' || p[i] === '+' || p[i] === '?' || (p[i] === '{' && isDigit(p[i + 1]))) fail('a quantifier cannot follow another one')
    return pref
  }

  /** Alternatives up to ')' or the end; their preference. */
  const alternatives = (depth: number): Pref => {
    let branches = 0
    let first: Pref = ''
    for (;;) {
      branches++
      const pref = branch(depth)
      if (branches === 1) first = pref
      if (p[i] !== '|') break
      sawAlternative = true
      i++
    }
    return branches > 1 ? 'greedy' : first
  }

  const branch = (depth: number): Pref => {
    let pref: Pref = ''
    while (i < p.length && p[i] !== '|' && p[i] !== ')') {
      const c = p[i]!
      let atom: Pref = ''
      let quantifiable = true
      if (c === '(') {
        if (p[i + 1] === '?') {
          const rest = p.slice(i + 2, i + 4)
          if (rest.startsWith(':')) i += 3
          else if (rest.startsWith('=') || rest.startsWith('!')) fail('lookahead ((?=, (?!) is not supported')
          else if (rest === '<=' || rest === '<!') fail('lookbehind ((?<=, (?<!) is not supported')
          else if (rest.startsWith('<') || rest.startsWith('P')) fail('named groups are not supported; use (...)')
          else if (rest.startsWith('#')) fail('comments (?#...) are not supported')
          else fail("embedded options such as (?i) are not supported; for case-insensitive matching use opts.flags 'i'")
        } else i++
        atom = alternatives(depth + 1)
        if (p[i] !== ')') fail('a parenthesis ( is not closed')
        i++
      } else if (c === '[') bracket()
      else if (c === '\\') quantifiable = escape(false) !== 'anchor'
      else if (c === '^' || c === '$') {
        i++
        quantifiable = false
      } else if (c === '*' || c === '+' || c === '?' || (c === '{' && isDigit(p[i + 1]))) {
        if (c === '*' && p.startsWith('***', i)) fail("Postgres's *** directors are not supported")
        fail(`the quantifier ${c} has nothing to repeat`)
      } else i++
      const q = quantifier()
      if (q !== undefined && !quantifiable) fail('an anchor cannot be repeated')
      const piece = q === undefined || q === '' ? atom : q
      if (pref === '') pref = piece
    }
    return pref
  }

  const pref = alternatives(0)
  if (i < p.length) fail('a parenthesis ) has no matching (')
  // A lazy pattern is matched shortest-as-a-whole by Postgres; RE2 (like Perl) only reproduces that while nothing in
  // it prefers otherwise.
  return { greedy: pref !== 'lazy', mixed: pref === 'lazy' && (sawGreedy || sawAlternative) }
}

export interface UserRegex {
  /** Whether the pattern occurs anywhere in s. */
  test(s: string): boolean
  /** Every match replaced, with Postgres's regexp_replace(s, pattern, replacement, 'g') rules. */
  replaceAll(s: string, replacement: string): string
  /** A lazy-first pattern with greedy parts: its match differs between the engines (refused for replacing). */
  readonly mixed: boolean
}

/** Refuses, for replacing, a pattern whose match Postgres and RE2 would choose differently. */
export function checkReplacePattern(re: UserRegex): void {
  if (re.mixed) {
    throw new RegexSyntaxError('a pattern whose first quantifier is lazy cannot also have greedy quantifiers or | alternatives here (Postgres then takes the shortest match as a whole, RE2 does not); make them all lazy, or the first one greedy')
  }
}

const cache = new Map<string, UserRegex>()
const CACHE_SIZE = 256

/** A checked, compiled user pattern (cached: the same pattern comes once per row); throws RegexSyntaxError. */
export function userRegex(pattern: string, caseInsensitive: boolean): UserRegex {
  const key = `${caseInsensitive ? 'i' : '-'}${pattern}`
  const hit = cache.get(key)
  if (hit) return hit
  const { greedy, mixed } = checkPatternSyntax(pattern)
  const flags = RE2JS.DOTALL | (caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0)
  let search: RE2JS
  let replace: RE2JS
  try {
    search = RE2JS.compile(pattern, flags)
    replace = greedy ? RE2JS.compile(pattern, flags | RE2JS.LONGEST_MATCH) : search
  } catch (e) {
    throw new RegexSyntaxError(String((e as Error).message).replace(/^error parsing regexp: /, ''))
  }
  const re: UserRegex = {
    test: (s) => search.test(s),
    replaceAll: (s, replacement) => replaceAll(replace, s, replacement),
    mixed,
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(key, re)
  return re
}

function replaceAll(re: RE2JS, s: string, replacement: string): string {
  const m = re.matcher(s)
  const parts: string[] = []
  let copied = 0
  let from = 0
  while (from <= s.length && m.find(from)) {
    const start = m.start()
    const end = m.end()
    parts.push(s.slice(copied, start), expand(replacement, m))
    copied = end
    // After an empty match the next search starts one character on (a surrogate pair is one character).
    from = start === end ? end + (isHighSurrogate(s.charCodeAt(end)) && isLowSurrogate(s.charCodeAt(end + 1)) ? 2 : 1) : end
  }
  parts.push(s.slice(copied))
  return parts.join('')
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff

/** Postgres's replacement text: \1..\9 a group (empty if absent), \& the match, \\ a backslash; others as written. */
function expand(replacement: string, m: { group(g?: number): string | null; groupCount(): number }): string {
  if (!replacement.includes('\\')) return replacement
  let out = ''
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!
    const next = replacement[i + 1]
    if (c !== '\\' || next === undefined) out += c
    else if (next >= '1' && next <= '9') {
      const g = Number(next)
      if (g <= m.groupCount()) out += m.group(g) ?? ''
      i++
    } else if (next === '&') {
      out += m.group(0) ?? ''
      i++
    } else if (next === '\\') {
      out += '\\'
      i++
    } else out += c
  }
  return out
}
