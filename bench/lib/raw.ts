import type { PGlite, Transaction } from '@electric-sql/pglite'
import type { ScalarRow } from './data.ts'
import { RAW_COLUMNS } from './data.ts'

// The raw PGlite baseline in its best honest forms: batched inserts inside one transaction, either as one
// unnest() of per-column arrays or as one jsonb_to_recordset() document per batch. The insert case measures both
// and reports the faster one as the baseline.

export type RawInsertForm = 'unnest' | 'jsonb' | 'values'

export const RAW_BATCH = 5000

export async function createRawTable(pg: PGlite, name: string): Promise<void> {
  await pg.exec(`drop table if exists ${name}; create table ${name} (${RAW_COLUMNS})`)
}

async function insertBatch(tx: Transaction | PGlite, table: string, rows: readonly ScalarRow[], form: RawInsertForm): Promise<void> {
  if (form === 'unnest') {
    await tx.query(`insert into ${table} (id, name, cat, score, meta) select * from unnest($1::bigint[], $2::text[], $3::text[], $4::float8[], $5::jsonb[])`, [
      rows.map((r) => r.id), rows.map((r) => r.name), rows.map((r) => r.cat), rows.map((r) => r.score), rows.map((r) => JSON.stringify(r.meta)),
    ])
  } else if (form === 'jsonb') {
    await tx.query(`insert into ${table} select * from jsonb_to_recordset($1::jsonb) as x(id bigint, name text, cat text, score double precision, meta jsonb)`, [JSON.stringify(rows)])
  } else {
    // Multi-row VALUES: 5 parameters a row, so at most 13k rows a statement (65535 parameters).
    const params: unknown[] = []
    const tuples = rows.map((r) => {
      const b = params.length
      params.push(r.id, r.name, r.cat, r.score, JSON.stringify(r.meta))
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb)`
    })
    await tx.query(`insert into ${table} (id, name, cat, score, meta) values ${tuples.join(', ')}`, params)
  }
}

export async function rawInsert(pg: PGlite, table: string, rows: readonly ScalarRow[], form: RawInsertForm, batch = RAW_BATCH): Promise<void> {
  await pg.transaction(async (tx) => {
    for (let s = 0; s < rows.length; s += batch) await insertBatch(tx, table, rows.slice(s, s + batch), form)
  })
}
