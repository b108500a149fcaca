// Scale-out benchmark: the same ingest/query cases on the embedded store (PGlite) and on a PostgreSQL server
// (the postgres driver), then HTTP ingest throughput with 1, 2 and 3 `tessera serve` processes on one database.
// Usage: TESSERA_TEST_DATABASE_URL=postgres://… bun bench/scaleout.ts   (eval "$(test/store/start-postgres.sh)")
import { Tessera } from '../src/index.ts'
import { dropCreatedDatabases, freshDatabaseUrl } from '../test/store/pg-support.ts'
import { memoryDb } from '../test/support/db.ts'
import { call, startServer } from '../test/scaleout/support.ts'

if (!process.env.TESSERA_TEST_DATABASE_URL) {
  console.error('set TESSERA_TEST_DATABASE_URL (eval "$(test/store/start-postgres.sh)")')
  process.exit(2)
}

const ROWS = 20_000
const BATCH = 500
const POINTS = 300

async function library(name: string, db: Tessera): Promise<{ insert: number; point: number }> {
  const t = await db.createTable('bench', { id: 'int', text: 'string', n: 'float' }, { primaryKey: 'id' })
  let start = performance.now()
  for (let b = 0; b < ROWS / BATCH; b++) {
    await t.insert(Array.from({ length: BATCH }, (_, i) => ({ id: b * BATCH + i, text: `row ${b * BATCH + i}`, n: i / 7 })))
  }
  const insert = ROWS / ((performance.now() - start) / 1000)
  start = performance.now()
  for (let i = 0; i < POINTS; i++) await t.where(t.c.id.eq((i * 7919) % ROWS)).collect()
  const point = (performance.now() - start) / POINTS
  console.log(`${name.padEnd(10)} insert ${Math.round(insert).toString().padStart(7)} rows/s   point query ${point.toFixed(2)} ms`)
  await db.close()
  return { insert, point }
}

const lite = await library('pglite', await memoryDb())
const server = await library('postgres', await Tessera.open({ database: await freshDatabaseUrl('tessera_bench') }))
console.log(`postgres/pglite: insert ×${(server.insert / lite.insert).toFixed(2)}, point query ×${(server.point / lite.point).toFixed(2)} (latency)`)

// HTTP ingest: each process gets 2 concurrent clients inserting batches of 200 rows, for a fixed total of rows.
const HTTP_BATCH = 200
const HTTP_BATCHES = 60
for (const shared of [true, false]) {
  for (const procs of [1, 2, 3]) {
    const database = await freshDatabaseUrl('tessera_bench')
    const servers = await Promise.all(Array.from({ length: procs }, () => startServer(database)))
    const tables = shared ? ['one'] : servers.map((_, i) => `t${i}`)
    for (const name of tables) await call(servers[0]!.url, 'POST', '/tables', { path: name, schema: { id: 'int', text: 'string' }, primaryKey: 'id' })
    let next = 0
    const client = async (p: number) => {
      for (let b = next++; b < HTTP_BATCHES; b = next++) {
        const rows = Array.from({ length: HTTP_BATCH }, (_, i) => ({ id: b * HTTP_BATCH + i, text: `r${i}` }))
        await call(servers[p]!.url, 'POST', `/tables/${shared ? 'one' : `t${p}`}/-/rows`, { rows })
      }
    }
    const start = performance.now()
    await Promise.all(servers.flatMap((_, p) => [client(p), client(p)]))
    const secs = (performance.now() - start) / 1000
    console.log(`http ${shared ? 'one shared table ' : 'a table per proc '} ${procs} process(es): ${Math.round((HTTP_BATCH * HTTP_BATCHES) / secs)} rows/s`)
    await Promise.all(servers.map((s) => s.stop()))
  }
}
await dropCreatedDatabases()
