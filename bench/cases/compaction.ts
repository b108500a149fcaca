import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { SCALAR_SCHEMA, scalarRows } from '../lib/data.ts'
import type { ScalarRow } from '../lib/data.ts'
import { dirBytes } from '../lib/env.ts'
import type { BenchCase, Measurement } from '../lib/harness.ts'
import { timeIt } from '../lib/harness.ts'

// Compaction (issue 20): 10 rounds each updating a different 10% of n rows, then compaction to the last version,
// against a fresh table holding the same final rows (each on its own data dir, same run). Sizes are taken after a
// checkpoint: the data dir, the data dir without its write-ahead log (pg_wal: Postgres keeps used segments for reuse,
// up to max_wal_size, 1 GB by default, so heavy writes leave more of them), and the data table alone.

const ROUNDS = 10

interface Sizes {
  dir: number
  noWal: number
  table: number
}

async function sizes(db: Tessera, home: string, table: Table): Promise<Sizes> {
  await db.driver.exec('checkpoint')
  const r = await db.driver.query<{ n: string }>(`select pg_total_relation_size(to_regclass($1)) as n`, [`tessera_data.t${table.id}`])
  const dir = dirBytes(join(home, 'pgdata'))
  return { dir, noWal: dir - dirBytes(join(home, 'pgdata', 'pg_wal')), table: Number(r.rows[0]!.n) }
}

const MB = 2 ** 20

export const compactionCase: BenchCase = {
  name: 'compaction',
  description: `data dir after ${ROUNDS} rounds of updating 10% of the rows, then compaction to the last version, vs a fresh table of the same rows`,
  async run(ctx) {
    const n = ctx.size
    const rows = scalarRows(n)
    const slice = Math.ceil(n / ROUNDS)
    const final: ScalarRow[] = rows.map((r) => ({ ...r, name: `round-${Math.floor(r.id / slice)}` }))

    const updatedHome = await ctx.env.tesseraHome()
    const db = await Tessera.open({ home: updatedHome })
    let compactMs = 0
    let updated: Sizes
    let compacted: Sizes
    let removed = 0
    try {
      const t = await db.createTable('data', { ...SCALAR_SCHEMA }, { primaryKey: 'id' })
      for (let s = 0; s < n; s += 100_000) await t.insert(rows.slice(s, s + 100_000))
      for (let r = 0; r < ROUNDS; r++) await t.update({ name: `round-${r}` }, { where: t.c.id.ge(r * slice).and(t.c.id.lt((r + 1) * slice)) })
      updated = await sizes(db, updatedHome, t)
      compactMs = await timeIt(async () => {
        removed = (await db.compact({ keepVersions: 1 })).rowVersionsRemoved
      })
      compacted = await sizes(db, updatedHome, t)
      if ((await t.count()) !== n || removed !== n) throw new Error(`compaction removed ${removed} row versions, expected ${n}`)
    } finally {
      await db.close()
    }

    const freshHome = await ctx.env.tesseraHome()
    const db2 = await Tessera.open({ home: freshHome })
    let fresh: Sizes
    try {
      const t = await db2.createTable('data', { ...SCALAR_SCHEMA }, { primaryKey: 'id' })
      for (let s = 0; s < n; s += 100_000) await t.insert(final.slice(s, s + 100_000))
      fresh = await sizes(db2, freshHome, t)
    } finally {
      await db2.close()
    }
    ctx.log(`updated: dir ${(updated.dir / MB).toFixed(1)} MB, table ${(updated.table / MB).toFixed(1)} MB; compacted in ${compactMs.toFixed(0)} ms (${removed} row versions)`)
    const out: Measurement[] = [
      { case: 'compaction', size: n, metric: `data dir after ${ROUNDS}×10% updates + compact`, tessera: compacted.dir / MB, baseline: fresh.dir / MB, unit: 'MB', against: 'fresh data dir with the same rows', target: { atMost: 1.3 }, note: `before compaction ${(updated.dir / MB).toFixed(1)} MB; compact took ${compactMs.toFixed(0)} ms` },
      { case: 'compaction', size: n, metric: 'data dir without WAL after compact', tessera: compacted.noWal / MB, baseline: fresh.noWal / MB, unit: 'MB', against: 'fresh data dir with the same rows', target: { atMost: 1.3 }, note: `before compaction ${(updated.noWal / MB).toFixed(1)} MB` },
      { case: 'compaction', size: n, metric: 'data table after compact', tessera: compacted.table / MB, baseline: fresh.table / MB, unit: 'MB', against: 'fresh table with the same rows', target: { atMost: 1.3 }, note: `before compaction ${(updated.table / MB).toFixed(1)} MB` },
    ]
    return out
  },
}
