// Comparing what a setup declares with what exists: an expression, an embedder's options or a route's JSON schema
// read back from the catalog (a jsonb document) or from a server (JSON) has the same content as the setup's but not
// always the same key order (jsonb orders keys by length, then bytes: `stop` before `model`). Comparing printed text
// then reports a change on every apply, and replacing an LLM column recomputes every cell. So values are compared
// as JSON with every object's keys sorted: the order of keys never matters, the order of array items does.

/** The JSON text of `value` with object keys sorted at every depth (what JSON.stringify drops, this drops too). */
export function canonicalJson(value: unknown): string {
  // Through JSON first, as the stored copy went: a Date becomes its ISO text, an undefined option disappears.
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
  return text === undefined ? 'null' : JSON.stringify(sortKeys(JSON.parse(text)))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const o = value as Record<string, unknown>
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]))
}

/** Whether two JSON-like values are the same data, whatever the order of their objects' keys. */
export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b)
