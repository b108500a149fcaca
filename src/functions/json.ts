import { expectKinds, scalar, t, typeError } from '../query/index.ts'
import type { FnNode } from '../query/index.ts'

// JSON paths: `meta.path('a[0].b')`, wildcards `meta.path('items[*].name')` (→ a list). Paths are parsed here into
// steps and rendered as an SQL/JSON path parameter, so no user text reaches SQL.

/** `[*]` ranges over an array's elements, `.*` over an object's values. */
export type PathStep = { key: string } | { index: number } | { wildcard: 'index' | 'key' }

export function parseJsonPath(path: string, node?: FnNode): PathStep[] {
  const steps: PathStep[] = []
  const re = /\s*(?:\.?\s*([A-Za-z_$][\w$]*)|\[\s*(-?\d+|\*)\s*\]|\[\s*(['"])(.*?)\3\s*\]|\.\s*\*)/y
  let s = path.trim()
  if (s.startsWith('$')) s = s.slice(1)
  let pos = 0
  while (pos < s.length) {
    re.lastIndex = pos
    const m = re.exec(s)
    if (!m) {
      const msg = `bad JSON path ${JSON.stringify(path)} at position ${pos}; use keys, [index] and [*], e.g. 'a.b[0]'`
      throw node ? typeError(node, msg) : new Error(msg)
    }
    if (m[1] !== undefined) steps.push({ key: m[1] })
    else if (m[2] === '*') steps.push({ wildcard: 'index' })
    else if (m[0].trim().endsWith('*')) steps.push({ wildcard: 'key' })
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) })
    else steps.push({ key: m[4]! })
    pos = re.lastIndex
  }
  return steps
}

// Strict mode: lax mode would unwrap arrays for key steps and wrap scalars for index steps, which the TypeScript
// evaluator does not do; errors strict mode raises (a missing key) are silenced by the `silent` argument instead.
export function toSqlJsonPath(steps: readonly PathStep[]): string {
  return 'strict $' + steps.map((s) => ('key' in s ? `.${JSON.stringify(s.key)}` : 'index' in s ? (s.index < 0 ? `[last${s.index + 1 === 0 ? '' : ` - ${-s.index - 1}`}]` : `[${s.index}]`) : s.wildcard === 'index' ? '[*]' : '.*')).join('')
}

export function evalJsonPath(value: unknown, steps: readonly PathStep[]): unknown {
  let current: unknown[] = [value]
  // A wildcard makes the result a list, even when an earlier step already matched nothing (→ []).
  const multi = steps.some((s) => 'wildcard' in s)
  for (const step of steps) {
    const next: unknown[] = []
    for (const v of current) {
      if ('key' in step) {
        if (v && typeof v === 'object' && !Array.isArray(v) && step.key in (v as object)) next.push((v as Record<string, unknown>)[step.key])
      } else if ('index' in step) {
        if (Array.isArray(v)) {
          const i = step.index < 0 ? v.length + step.index : step.index
          if (i >= 0 && i < v.length) next.push(v[i])
        }
      } else if (step.wildcard === 'index') {
        if (Array.isArray(v)) next.push(...v)
      } else if (v && typeof v === 'object' && !Array.isArray(v)) {
        next.push(...Object.values(v))
      }
    }
    current = next
  }
  return multi ? current : (current[0] ?? null)
}

function pathOf(node: FnNode): PathStep[] {
  const p = node.opts?.path
  if (typeof p !== 'string') throw typeError(node, 'json_path() needs opts.path, e.g. "a.b[0]"')
  return parseJsonPath(p, node)
}

scalar({
  name: 'json_path', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['json']), pathOf(node), t('json', true)),
  sql: ([a], emit, node) => {
    const steps = pathOf(node)
    const wildcard = steps.some((s) => 'wildcard' in s)
    const fn = wildcard ? 'jsonb_path_query_array' : 'jsonb_path_query_first'
    return `${fn}(${a!.sql}, ${emit.param(toSqlJsonPath(steps))}::jsonpath, '{}'::jsonb, true)`
  },
  eval: ([a], node) => evalJsonPath(a, pathOf(node)),
})

scalar({
  name: 'json_dumps', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['json']), t('string', types[0]!.nullable)),
  sql: ([a]) => `(${a!.sql})::text`,
  eval: ([a]) => pgJsonText(a),
})

/** JSON text as Postgres prints jsonb (and Python's json.dumps): `{"a": [1, 2]}`, so both sides agree. */
export function pgJsonText(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(pgJsonText).join(', ')}]`
  if (x && typeof x === 'object') return `{${Object.entries(x).map(([k, v]) => `${JSON.stringify(k)}: ${pgJsonText(v)}`).join(', ')}}`
  return JSON.stringify(x) ?? 'null'
}
scalar({
  name: 'json_loads', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string']), t('json', true)),
  sql: ([a]) => `(${a!.sql})::jsonb`,
  eval: ([a]) => JSON.parse(a as string),
})
