// The plan cache and prepared statements, before and after, in one process on one table: the library point query as
// it runs now, the same query planned every call and run unprepared (as before), and raw SQL through the same store
// worker, alternated op by op. `N=100000 bun bench/plan-cache.ts` (rows; default 100k).
import { Tessera } from '../src/index.ts'
import { executePlan } from '../src/query/executor.ts'
import { planQuery } from '../src/query/planner.ts'
import { SCALAR_SCHEMA, scalarRows } from './lib/data.ts'
import { latencies } from './lib/harness.ts'
import { keys } from './lib/setup.ts'
const n = Number(process.env.N ?? 100_000)
const db = await Tessera.memory()
const t = await db.createTable('data', { ...SCALAR_SCHEMA }, { primaryKey: 'id' })
const rows = scalarRows(n)
for (let s = 0; s < rows.length; s += 50_000) await t.insert(rows.slice(s, s + 50_000))
// The raw baseline: the same rows as a plain table in the same store (bench code, not the library, writes this SQL).
await db.driver.exec(`create table raw as select c0 as id, c1 as name, c2 as cat, c3 as score, c4 as meta from tessera_data.t1; alter table raw add primary key (id); analyze`)
const ks = keys(n, 5000)
const [now, before, raw] = await latencies(3, 500, [
  (i) => t.where(t.c.id.eq(ks[i % ks.length]!)).collect(),
  (i) => executePlan(db.driver, planQuery(t.where(t.c.id.eq(ks[i % ks.length]!)).spec)),
  (i) => db.driver.query('select id, name, cat, score, meta from raw where id = $1', [ks[i % ks.length]!]),
])
console.log(`n=${n}: library now ${now!.toFixed(0)} us, library before (plan every call, unprepared) ${before!.toFixed(0)} us, raw SQL same worker ${raw!.toFixed(0)} us`)
await db.close()
