// stream() against one collect() of the same rows (issue 22's hot paths; exports and NDJSON streams page this way):
// a table in insertion order pages after the last row's _rowid, a query that skips a row (offset 1) pages by OFFSET,
// as ordered and joined queries do. The same two over HTTP: the client's stream() against an in-process server
// (pages of POST /api/v1/query, no network). Medians of alternated runs, the machine's load printed beside them.
//   `bun bench/stream.ts [rows=300000] [batchSize=10000] [reps=3]`
import { loadavg } from 'node:os'
import { connect } from '../src/client/index.ts'
import { Tessera } from '../src/index.ts'
import { createApp } from '../src/server/app.ts'
import { alternate } from './lib/harness.ts'

const rows = Number(process.argv[2] ?? 300_000)
const batchSize = Number(process.argv[3] ?? 10_000)
const reps = Number(process.argv[4] ?? 3)

const db = await Tessera.memory()
const t = await db.createTable('streamed', { id: 'int', name: 'string', score: 'float' })
for (let i = 0; i < rows; i += 50_000) {
  await t.insert(Array.from({ length: Math.min(50_000, rows - i) }, (_, k) => ({ id: i + k, name: `name-${i + k}`, score: (i + k) / 7 })))
}
const app = createApp(db)
const remote = await connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) }).getTable('streamed')
const drain = async (q: AsyncIterable<unknown>) => { let n = 0; for await (const _ of q) n++; return n }
const loadBefore = loadavg()[0]!
const [collect, keyset, offset, httpKeyset, httpOffset] = await alternate(reps, [
  () => t.collect(),
  () => drain(t.query().stream({ batchSize })),
  () => drain(t.query().offset(1).stream({ batchSize })),
  () => drain(remote.query().stream({ batchSize })),
  () => drain(remote.query().offset(1).stream({ batchSize })),
])
console.log(`${rows} rows, pages of ${batchSize}, ${reps} reps, load ${loadBefore.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`)
console.log(`collect()                   ${collect!.toFixed(0)} ms`)
console.log(`stream(), after the last row ${keyset!.toFixed(0)} ms  ${(keyset! / collect!).toFixed(2)}x collect`)
console.log(`stream(), by offset          ${offset!.toFixed(0)} ms  ${(offset! / collect!).toFixed(2)}x collect, ${(offset! / keyset!).toFixed(2)}x keyset`)
console.log(`HTTP stream(), after the last row ${httpKeyset!.toFixed(0)} ms  ${(httpKeyset! / collect!).toFixed(2)}x collect`)
console.log(`HTTP stream(), by offset     ${httpOffset!.toFixed(0)} ms  ${(httpOffset! / collect!).toFixed(2)}x collect, ${(httpOffset! / httpKeyset!).toFixed(2)}x HTTP keyset`)
await db.close()
