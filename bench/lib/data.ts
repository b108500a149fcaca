// Deterministic scalar rows: the same rows go to Tessera and to the baseline.

export interface ScalarRow {
  id: number
  name: string
  cat: string
  score: number
  meta: { k: number; tag: string; tags: string[] }
  [key: string]: unknown
}

export const SCALAR_SCHEMA = { id: 'int', name: 'string', cat: 'string', score: 'float', meta: 'json' } as const

/** The raw PGlite table holding the same rows: a plain table with a primary key, nothing else. */
export const RAW_COLUMNS = 'id bigint primary key, name text, cat text, score double precision, meta jsonb'

export const CATEGORIES = 10

export function scalarRows(n: number, offset = 0): ScalarRow[] {
  const out = new Array<ScalarRow>(n)
  for (let k = 0; k < n; k++) {
    const i = offset + k
    // A cheap LCG keeps scores spread over [0, 1000) without correlation to id, so range filters scan, not seek.
    const h = (Math.imul(i ^ 0x5bd1e995, 1103515245) + 12345) >>> 0
    out[k] = {
      id: i,
      name: `name-${i.toString(36)}-${(h % 9973).toString(16)}`,
      cat: `cat${i % CATEGORIES}`,
      score: (h % 1_000_000) / 1000,
      meta: { k: i % 100, tag: h % 2 ? 'odd' : 'even', tags: ['a', 'b'] },
    }
  }
  return out
}
