import type { Table, Tessera } from '../../src/index.ts'
import { vectorIndexesOf } from '../../src/index/index.ts'

// The rows the native index's column-copy tests search (test/index/ann-filter-values.test.ts, ann-answer.test.ts):
// an int key, an int bucket (i % 1000), a string tag (7 values), a nullable float score (null on every fifth row)
// and a unit vector; the exact ranking they are checked against; and a trace of the statements a search runs.

export interface AnnRow { id: number; bucket: number; tag: string; score: number | null; emb: number[] }

export const annRowSchema = (dims: number): Record<string, string> => ({ id: 'int', bucket: 'int', tag: 'string', score: 'float?', emb: `array<float32>[${dims}]` })

export function annRows(n: number, vector: () => number[]): AnnRow[] {
  return Array.from({ length: n }, (_, i) => ({ id: i, bucket: i % 1000, tag: `t${i % 7}`, score: i % 5 === 0 ? null : (i % 97) / 97, emb: vector() }))
}

/** The ids of the exact top k of `rows` passing `keep`, by `similarity` to q (cosine: the vectors are unit length). */
export function exactTopIds(rows: readonly AnnRow[], similarity: (a: readonly number[], b: readonly number[]) => number, q: number[], k: number, keep: (r: AnnRow) => boolean = () => true): number[] {
  return rows.filter(keep).map((r) => [r.id, similarity(r.emb, q)] as const).sort((a, b) => b[1] - a[1]).slice(0, k).map(([id]) => id)
}

/** A search's result and the statements over the table's rows it ran (not the index upkeep's). */
export async function traceStatements<R>(db: Tessera, run: () => Promise<R>): Promise<{ result: R; statements: string[] }> {
  const driver = db.driver as unknown as { query: (...a: unknown[]) => Promise<unknown> }
  const query = driver.query
  const statements: string[] = []
  driver.query = (...a: unknown[]) => {
    if (/^(with _top as materialized \()?select t0\./.test(String(a[0]))) statements.push(String(a[0]))
    return query.apply(db.driver, a)
  }
  try {
    return { result: await run(), statements }
  } finally {
    driver.query = query
  }
}

/**
 * A table of `rows` (keyed by id) with a cosine embedding index 'e' on emb, its native index settled; `beforeIndex`
 * runs between the insert and the index (a computed column, say).
 */
export async function annTable(db: Tessera, name: string, dims: number, rows: readonly AnnRow[], beforeIndex?: (t: Table) => Promise<unknown>): Promise<Table> {
  const t = await db.createTable(name, annRowSchema(dims), { primaryKey: 'id' })
  await t.insert(rows as unknown as Record<string, unknown>[])
  await beforeIndex?.(t)
  await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine' })
  await vectorIndexesOf(db.driver)!.entries(t.id)[0]!.settled()
  return t
}
