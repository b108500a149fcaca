import type { PGlite } from '@electric-sql/pglite'
import type { Table, Tessera } from '../../src/index.ts'
import type { ScalarRow } from './data.ts'
import { SCALAR_SCHEMA, scalarRows } from './data.ts'
import { createRawTable, rawInsert } from './raw.ts'

/** The same n scalar rows in a Tessera table and in a raw PGlite table (untimed setup for the read cases). */
export async function loadBoth(db: Tessera, pg: PGlite, n: number, name = 'data', options: { computed?: boolean } = {}): Promise<{ table: Table; rows: ScalarRow[] }> {
  const rows = scalarRows(n)
  const table = await db.createTable(name, { ...SCALAR_SCHEMA }, { primaryKey: 'id' })
  if (options.computed) await table.addComputedColumn('name_upper', table.c.name.upper())
  for (let s = 0; s < n; s += 100_000) await table.insert(rows.slice(s, s + 100_000))
  await createRawTable(pg, name)
  if (options.computed) await pg.exec(`alter table ${name} add column name_upper text`)
  await rawInsert(pg, name, rows, 'unnest')
  if (options.computed) await pg.exec(`update ${name} set name_upper = upper(name)`)
  // Fresh statistics for both, as a long-running database would have.
  await db.driver.exec('analyze')
  await pg.exec('analyze')
  return { table, rows }
}

/** A deterministic pseudo-random sequence of keys in [0, n). */
export function keys(n: number, count: number, seed = 7): number[] {
  const out = new Array<number>(count)
  let x = seed
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    out[i] = x % n
  }
  return out
}
