import type { Table } from '../../src/index.ts'
import type { BenchCase, Measurement } from '../lib/harness.ts'
import { latency, median, timeIt } from '../lib/harness.ts'
import { loadBoth } from '../lib/setup.ts'
import { readOps } from './query.ts'

// Versioned writes and reads: update of 1% of rows with a dependent computed column, delete of 1%, revert of each,
// and queries at an old version (time travel) against the same queries at the current version.

export const versionsCase: BenchCase = {
  name: 'versions',
  description: 'update 1% (with dependent computed column), delete 1%, revert, time-travel queries',
  async run(ctx) {
    const { size: n, reps } = ctx
    const { db } = await ctx.env.tessera()
    const { pg } = await ctx.env.raw()
    const { table } = await loadBoth(db, pg, n, 'data', { computed: true })
    const slice = Math.max(1, Math.floor(n / 100))
    const out: Measurement[] = []
    const base = table.version

    // Each rep touches a different 1% slice of ids, so every update and delete changes exactly `slice` rows.
    const upd = { t: [] as number[], raw: [] as number[] }
    for (let r = 0; r < reps; r++) {
      const lo = r * slice
      const hi = lo + slice
      const a = async () => table.update({ name: `upd-${r}` }, { where: table.c.id.ge(lo).and(table.c.id.lt(hi)) })
      const b = async () => pg.query('update data set name = $1, name_upper = upper($1) where id >= $2 and id < $3', [`upd-${r}`, lo, hi])
      if (r % 2 === 0) { upd.t.push(await timeIt(a)); upd.raw.push(await timeIt(b)) } else { upd.raw.push(await timeIt(b)); upd.t.push(await timeIt(a)) }
    }
    const check = await table.where(table.c.id.lt(slice)).select({ u: table.c.name_upper }).collect()
    if (check.rows[0]?.u !== 'UPD-0') throw new Error(`update did not cascade to the computed column: ${JSON.stringify(check.rows[0])}`)
    out.push({ case: 'versions', size: n, metric: `update 1% (${slice} rows) + computed`, tessera: median(upd.t), baseline: median(upd.raw), unit: 'ms', against: 'raw UPDATE ... set name, name_upper = upper(name)' })

    const del = { t: [] as number[], raw: [] as number[] }
    for (let r = 0; r < reps; r++) {
      const lo = (reps + r) * slice
      const hi = lo + slice
      const a = async () => table.delete({ where: table.c.id.ge(lo).and(table.c.id.lt(hi)) })
      const b = async () => pg.query('delete from data where id >= $1 and id < $2', [lo, hi])
      if (r % 2 === 0) { del.t.push(await timeIt(a)); del.raw.push(await timeIt(b)) } else { del.raw.push(await timeIt(b)); del.t.push(await timeIt(a)) }
    }
    out.push({ case: 'versions', size: n, metric: `delete 1% (${slice} rows)`, tessera: median(del.t), baseline: median(del.raw), unit: 'ms', against: 'raw DELETE' })

    // Time travel: the version right after the load (before any update/delete) against the current version.
    const old = await db.get(`data:${base}`)
    const current = await db.get('data')
    const ops = [
      ...readOps(n).map((op) => ({ metric: op.metric, ops: op.ops, run: (t: Table, i: number) => op.query(t, i).collect() })),
      { metric: 'count(*)', ops: (m: number) => Math.min(50, Math.max(3, Math.round(2e6 / m / 10))), run: (t: Table) => t.count() },
    ]
    for (const op of ops) {
      const { a, b } = await latency(reps, op.ops(n), (i) => op.run(old, i), (i) => op.run(current, i))
      out.push({ case: 'versions', size: n, metric: `time travel: ${op.metric}`, tessera: a, baseline: b, unit: 'us/op', against: 'same query at the current version', target: { atMost: 1.5 } })
    }

    // Revert: deletes first (newest), then updates; each against the forward write it undoes.
    const revDel: number[] = []
    for (let r = 0; r < reps; r++) revDel.push(await timeIt(() => table.revert()))
    const revUpd: number[] = []
    for (let r = 0; r < reps; r++) revUpd.push(await timeIt(() => table.revert()))
    if (table.version !== base || (await table.count()) !== n) throw new Error(`revert did not restore version ${base} with ${n} rows`)
    out.push({ case: 'versions', size: n, metric: `revert of a 1% delete`, tessera: median(revDel), baseline: median(del.t), unit: 'ms', against: 'the library delete it undoes' })
    out.push({ case: 'versions', size: n, metric: `revert of a 1% update`, tessera: median(revUpd), baseline: median(upd.t), unit: 'ms', against: 'the library update it undoes' })
    return out
  },
}
