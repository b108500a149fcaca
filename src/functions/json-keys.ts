import { call, expectKinds, scalar, t } from '../query/index.ts'
import type { Expr, ExprLike } from '../query/index.ts'

// Object inspection for JSON values: keys, values, has_key. Keys come back in jsonb's order (shorter keys first, then
// bytewise), in TypeScript too, so a result does not depend on which side computed it.

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x)
const utf8 = new TextEncoder()
function jsonbKeyOrder(a: string, b: string): number {
  const x = utf8.encode(a)
  const y = utf8.encode(b)
  if (x.length !== y.length) return x.length - y.length
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return 0
}
const sortedKeys = (o: Record<string, unknown>): string[] => Object.keys(o).sort(jsonbKeyOrder)

// Not an object (array, scalar) → null.
scalar({
  name: 'json_keys', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['json']), t('json', true)),
  sql: ([a]) => `(case when jsonb_typeof(${a!.sql}) = 'object' then (select coalesce(jsonb_agg(k order by length(k::bytea), k::bytea), '[]'::jsonb) from jsonb_object_keys(${a!.sql}) as k) end)`,
  eval: ([a]) => (isObject(a) ? sortedKeys(a) : null),
})
scalar({
  name: 'json_values', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['json']), t('json', true)),
  sql: ([a]) => `(case when jsonb_typeof(${a!.sql}) = 'object' then (select coalesce(jsonb_agg(e.value order by length(e.key::bytea), e.key::bytea), '[]'::jsonb) from jsonb_each(${a!.sql}) as e) end)`,
  eval: ([a]) => (isObject(a) ? sortedKeys(a).map((k) => a[k]) : null),
})
scalar({
  name: 'json_has_key', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => (expectKinds(node, types, 0, ['json']), expectKinds(node, types, 1, ['string']), t('bool', types[0]!.nullable || types[1]!.nullable)),
  sql: ([a, k]) => `(jsonb_typeof(${a!.sql}) = 'object' and jsonb_exists(${a!.sql}, ${k!.sql}))`,
  eval: ([a, k]) => isObject(a) && Object.hasOwn(a, k as string),
})

/** JSON functions as expression builders: `json.keys(t.c.meta)`, `json.hasKey(t.c.meta, 'a')`. */
export const json = {
  keys: (x: ExprLike): Expr => call('json_keys', [x]),
  values: (x: ExprLike): Expr => call('json_values', [x]),
  hasKey: (x: ExprLike, key: ExprLike): Expr => call('json_has_key', [x, key]),
  dumps: (x: ExprLike): Expr => call('json_dumps', [x]),
  loads: (x: ExprLike): Expr => call('json_loads', [x]),
  path: (x: ExprLike, path: string): Expr => call('json_path', [x], { path }),
}
