import { expectKinds, scalar, t, typeError } from '../query/index.ts'
import type { FnNode } from '../query/index.ts'
import { checkReplacePattern, RegexSyntaxError, userRegex } from './regex.ts'
import type { UserRegex } from './regex.ts'

// String methods. match and regex_replace take a user pattern: Postgres regexes in SQL, RE2 (linear time) in
// TypeScript, both held to the syntax they read alike (src/functions/regex.ts).

const STR = ['string']
const TEXTLIKE = ['string', 'image', 'video', 'audio', 'document']

function str1(name: string, sql: (a: string) => string, evalFn: (s: string) => unknown, kind: 'string' | 'int' | 'bool' = 'string') {
  scalar({
    name, minArgs: 1, maxArgs: 1,
    returnType: (types, node) => (expectKinds(node, types, 0, STR), t(kind, types[0]!.nullable)),
    sql: ([a]) => sql(a!.sql),
    eval: ([a]) => evalFn(a as string),
  })
}
str1('lower', (a) => `lower(${a})`, (s) => s.toLowerCase())
str1('upper', (a) => `upper(${a})`, (s) => s.toUpperCase())
str1('strip', (a) => `btrim(${a}, E' \\t\\n\\r')`, (s) => s.trim())
str1('lstrip', (a) => `ltrim(${a}, E' \\t\\n\\r')`, (s) => s.trimStart())
str1('rstrip', (a) => `rtrim(${a}, E' \\t\\n\\r')`, (s) => s.trimEnd())
str1('capitalize', (a) => `(upper(left(${a}, 1)) || lower(substr(${a}, 2)))`, (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase())
str1('reverse', (a) => `reverse(${a})`, (s) => [...s].reverse().join(''))

// len() works on strings (characters), arrays (outer length) and JSON arrays/objects.
scalar({
  name: 'len', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string', 'array', 'json']), t('int', types[0]!.nullable || types[0]!.kind === 'json')),
  sql: ([a]) => {
    if (a!.type.kind === 'string') return `char_length(${a!.sql})`
    if (a!.type.kind === 'array') return `(case when ${a!.sql} is not null then coalesce(array_length(${a!.sql}, 1), 0) end)::bigint`
    return `(case jsonb_typeof(${a!.sql}) when 'array' then jsonb_array_length(${a!.sql}) when 'object' then (select count(*) from jsonb_object_keys(${a!.sql})) when 'string' then char_length(${a!.sql} #>> '{}') end)::bigint`
  },
  eval: ([a]) => (typeof a === 'string' ? [...a].length : Array.isArray(a) ? a.length : a && typeof a === 'object' ? Object.keys(a).length : null),
})

function str2(name: string, sql: (a: string, b: string) => string, evalFn: (a: string, b: string) => unknown, kind: 'string' | 'bool' | 'int') {
  scalar({
    name, minArgs: 2, maxArgs: 2,
    returnType: (types, node) => {
      expectKinds(node, types, 0, TEXTLIKE)
      expectKinds(node, types, 1, STR)
      return t(kind, types[0]!.nullable || types[1]!.nullable)
    },
    sql: ([a, b]) => sql(a!.sql, b!.sql),
    eval: ([a, b]) => evalFn(a as string, b as string),
  })
}
str2('contains', (a, b) => `(strpos(${a}, ${b}) > 0)`, (a, b) => a.includes(b), 'bool')
str2('startswith', (a, b) => `starts_with(${a}, ${b})`, (a, b) => a.startsWith(b), 'bool')
str2('endswith', (a, b) => `(right(${a}, char_length(${b})) = ${b})`, (a, b) => a.endsWith(b), 'bool')
str2('find', (a, b) => `(strpos(${a}, ${b}) - 1)::bigint`, (a, b) => a.indexOf(b), 'int')
str2('count_substr', (a, b) => `((char_length(${a}) - char_length(replace(${a}, ${b}, ''))) / nullif(char_length(${b}), 0))::bigint`, (a, b) => (b === '' ? null : a.split(b).length - 1), 'int')
str2('concat', (a, b) => `(${a} || ${b})`, (a, b) => a + b, 'string')

scalar({
  name: 'replace', minArgs: 3, maxArgs: 3,
  returnType: (types, node) => {
    for (const i of [0, 1, 2]) expectKinds(node, types, i, STR)
    return t('string', types.some((x) => x.nullable))
  },
  sql: ([a, b, c]) => `replace(${a!.sql}, ${b!.sql}, ${c!.sql})`,
  eval: ([a, b, c]) => (a as string).split(b as string).join(c as string),
})

function regexFlags(node: FnNode): { caseInsensitive: boolean } {
  return { caseInsensitive: node.opts?.flags === 'i' || node.opts?.case === false }
}
function checkRegex(node: FnNode): string {
  const pattern = node.opts?.pattern
  if (typeof pattern !== 'string') throw typeError(node, `${node.fn}() needs opts.pattern, a regular expression string`)
  compiled(node, pattern)
  return pattern
}
/** The pattern checked and compiled for TypeScript; refused the same way whichever side would run it. */
function compiled(node: FnNode, pattern = node.opts?.pattern as string): UserRegex {
  try {
    const re = userRegex(pattern, regexFlags(node).caseInsensitive)
    if (node.fn === 'regex_replace') checkReplacePattern(re)
    return re
  } catch (e) {
    if (!(e instanceof RegexSyntaxError)) throw e
    const shown = pattern.length > 80 ? `${JSON.stringify(pattern.slice(0, 80))}...` : JSON.stringify(pattern)
    throw typeError(node, `${node.fn}() cannot use the regular expression ${shown}: ${e.message}`)
  }
}

/** regex search anywhere in the string (Python re.search). */
scalar({
  name: 'match', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, TEXTLIKE), checkRegex(node), t('bool', types[0]!.nullable)),
  sql: ([a], emit, node) => `(${a!.sql} ${regexFlags(node).caseInsensitive ? '~*' : '~'} ${emit.param(checkRegex(node))})`,
  eval: ([a], node) => compiled(node).test(a as string),
})
scalar({
  name: 'regex_replace', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => (expectKinds(node, types, 0, STR), expectKinds(node, types, 1, STR), checkRegex(node), t('string', types[0]!.nullable)),
  sql: ([a, b], emit, node) => `regexp_replace(${a!.sql}, ${emit.param(checkRegex(node))}, ${b!.sql}, ${emit.param(regexFlags(node).caseInsensitive ? 'gi' : 'g')})`,
  eval: ([a, b], node) => compiled(node).replaceAll(a as string, b as string),
})

// substr(start, end) with Python slice semantics: 0-based, end exclusive, negatives count from the end.
scalar({
  name: 'substr', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, STR), t('string', types[0]!.nullable)),
  sql: ([a], emit, node) => {
    const start = Number(node.opts?.start ?? 0)
    const end = node.opts?.end
    // substr() takes int4 positions, so bounds are cast to int (a bigint parameter finds no substr(text, bigint)).
    const n = `char_length(${a!.sql})`
    const s = start >= 0 ? `${emit.param(start + 1, t('int'))}::int` : `greatest(${n} + ${emit.param(start + 1, t('int'))}::int, 1)`
    if (end === undefined || end === null) return `substr(${a!.sql}, ${s})`
    const e = Number(end) >= 0 ? `${emit.param(Number(end), t('int'))}::int` : `(${n} + ${emit.param(Number(end), t('int'))}::int)`
    return `substr(${a!.sql}, ${s}, greatest(${e} - ${s} + 1, 0))`
  },
  eval: ([a], node) => {
    const chars = [...(a as string)]
    const end = node.opts?.end
    return chars.slice(Number(node.opts?.start ?? 0), end === undefined || end === null ? undefined : Number(end)).join('')
  },
})
