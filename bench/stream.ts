// stream() against one collect() of the same rows (issue 22's hot paths; exports and NDJSON streams page this way):
// a table in insertion order pages after the last row's _rowid, a query that skips a row (offset 1) pages by OFFSET,
// as ordered and joined queries do. Medians of alternated runs, the machine's load printed beside them.
//   `bun bench/stream.ts [rows=300000] [batchSize=10000] [reps=3]`
import { loadavg } from 'node:os'
import { Tessera } from '../src/index.ts'
import { alternate } from './lib/harness.ts'

const rows = Number(process.argv[2] ?? 300_000)
const batchSize = Number(process.argv[3] ?? 10_000)
const reps = Number(process.argv[4] ?? 3)

const db = await Tessera.memory()
const t = await db.createTable('streamed', { id: 'int', name: 'string', score: 'float' })
for (let i = 0; i < rows; i += 50_000) {
  await t.insert(Array.from({ length: Math.min(50_000, rows - i) }, (_, k) => ({ id: i + k, name: `name-${i + k}`, score: (i + k) / 7 })))
}
const drain = async (q: AsyncIterable<unknown>) => { let n = 0; for await (const _ of q) n++; return n }
const loadBefore = loadavg()[0]!
const [collect, keyset, offset] = await alternate(reps, [
  () => t.collect(),
  () => drain(t.query().stream({ batchSize })),
  () => drain(t.query().offset(1).stream({ batchSize })),
])
console.log(`${rows} rows, pages of ${batchSize}, ${reps} reps, load ${loadBefore.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`)
console.log(`collect()                   ${collect!.toFixed(0)} ms`)
console.log(`stream(), after the last row ${keyset!.toFixed(0)} ms  ${(keyset! / collect!).toFixed(2)}x collect`)
console.log(`stream(), by offset          ${offset!.toFixed(0)} ms  ${(offset! / collect!).toFixed(2)}x collect, ${(offset! / keyset!).toFixed(2)}x keyset`)
await db.close()
