// Baseline for index maintenance cost: raw pgvector inserts into an HNSW-indexed PGlite table, with no Tessera code.
// Run: npx bun bench/embedding-hnsw-insert.ts [rows=2000] [more=1000] [dims=256]
import { PGliteDriver } from '../src/store/index.ts'

const [N, MORE, D] = [Number(process.argv[2] ?? 2000), Number(process.argv[3] ?? 1000), Number(process.argv[4] ?? 256)]
const db = await PGliteDriver.open({})
const vec = () => {
  const v = Array.from({ length: D }, () => Math.random() - 0.5)
  const n = Math.hypot(...v)
  return v.map((x) => x / n)
}
await db.exec(`create table t (id bigserial, _v_max int not null default 2147483647, v real[])`)
const ins = (n: number) => db.query(`insert into t (v) select (x->>'v')::real[] from jsonb_array_elements($1::jsonb) as x`, [JSON.stringify(Array.from({ length: n }, () => ({ v: `{${vec().join(',')}}` })))])
await ins(N)
let t0 = performance.now()
await db.exec(`create index on t using hnsw ((v::vector(${D})) vector_cosine_ops) where _v_max = 2147483647`)
console.log(`raw HNSW build on ${N}×${D}: ${((performance.now() - t0) / 1000).toFixed(2)} s`)
t0 = performance.now()
await ins(MORE)
console.log(`raw insert of ${MORE} more rows with the HNSW index: ${(performance.now() - t0).toFixed(0)} ms`)
await db.close()
