import { call, expectKinds, scalar, t } from '../query/index.ts'
import type { Expr, ExprLike } from '../query/index.ts'

// UUIDs: uuid4() makes a new random one per row (never cached or folded); uuid_str/uuid_parse convert to and from
// the canonical lowercase text form.

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

scalar({
  name: 'uuid4', minArgs: 0, maxArgs: 0, deterministic: false,
  returnType: () => t('uuid'),
  sql: () => 'gen_random_uuid()',
  eval: () => crypto.randomUUID(),
})

scalar({
  name: 'uuid_str', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['uuid']), t('string', types[0]!.nullable)),
  sql: ([a]) => `(${a!.sql})::text`,
  eval: ([a]) => String(a).toLowerCase(),
})

scalar({
  name: 'uuid_parse', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string']), t('uuid', types[0]!.nullable)),
  sql: ([a]) => `(${a!.sql})::uuid`,
  eval: ([a]) => {
    const s = String(a).trim().replace(/^\{|\}$/g, '')
    if (!UUID_RE.test(s)) throw new TypeError(`${JSON.stringify(a)} is not a UUID`)
    return s.toLowerCase()
  },
})

/** UUID functions as expression builders: `uuid.uuid4()`, `uuid.toString(t.c.id)`. */
export const uuid = {
  uuid4: (): Expr => call('uuid4'),
  toString: (x: ExprLike): Expr => call('uuid_str', [x]),
  parse: (x: ExprLike): Expr => call('uuid_parse', [x]),
}
