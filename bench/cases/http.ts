import type { PGlite } from '@electric-sql/pglite'
import { Hono } from 'hono'
import { createApp } from '../../src/server/app.ts'
import type { ScalarRow } from '../lib/data.ts'
import { SCALAR_SCHEMA, scalarRows } from '../lib/data.ts'
import type { BenchCase, Measurement } from '../lib/harness.ts'
import { alternate, latency } from '../lib/harness.ts'
import { createRawTable, rawInsert } from '../lib/raw.ts'
import { loadBoth } from '../lib/setup.ts'
import { readOps } from './query.ts'

// The same inserts and reads through HTTP: Tessera's Hono app (createApp) against a bare Hono route that runs the
// raw PGlite SQL, both served by Bun.serve on 127.0.0.1 in this process, requests sent one at a time.

const HTTP_BATCH = 5000

export function serve(fetch: (req: Request) => Response | Promise<Response>): { url: string; stop(): void } {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => void server.stop(true) }
}

/** The baseline server: a bare Hono app over the raw PGlite. */
export function bareApp(pg: PGlite, n: number): Hono {
  const ops = readOps(n)
  const app = new Hono()
  app.post('/rows/:table', async (c) => {
    const body = (await c.req.json()) as { rows: ScalarRow[] }
    await rawInsert(pg, c.req.param('table'), body.rows, 'unnest')
    return c.json({ numRows: body.rows.length }, 201)
  })
  app.post('/query/:op', async (c) => {
    const { i } = (await c.req.json()) as { i: number }
    const r = (await ops[Number(c.req.param('op'))]!.raw(pg, i)) as { rows: unknown[] }
    return c.json({ rows: r.rows })
  })
  return app
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`)
  return res.json()
}

export const httpCase: BenchCase = {
  name: 'http',
  description: 'insert and queries through HTTP: Tessera app vs a bare Hono route over raw PGlite',
  async run(ctx) {
    const { size: n, reps } = ctx
    const { db } = await ctx.env.tessera()
    const { pg } = await ctx.env.raw()
    const tessera = serve(createApp(db).fetch)
    const bare = serve(bareApp(pg, n).fetch)
    const out: Measurement[] = []
    try {
      // Insert: the rows in requests of 5000, into a fresh table per rep.
      const rows = scalarRows(n)
      const sendAll = async (url: string) => {
        for (let s = 0; s < n; s += HTTP_BATCH) await post(url, { rows: rows.slice(s, s + HTTP_BATCH) })
      }
      const [ti, tr] = await alternate(reps, [
        (r) => sendAll(`${tessera.url}/api/v1/tables/http_ins_${r}/-/rows`),
        (r) => sendAll(`${bare.url}/rows/raw_ins_${r}`),
      ], async (side, r) => {
        if (side === 0) await db.createTable(`http_ins_${r}`, { ...SCALAR_SCHEMA }, { primaryKey: 'id' })
        else await createRawTable(pg, `raw_ins_${r}`)
      })
      out.push({
        case: 'http', size: n, metric: `insert rows/s (requests of ${HTTP_BATCH})`, tessera: (n / ti!) * 1000, baseline: (n / tr!) * 1000,
        unit: 'rows/s', higherIsBetter: true, against: 'bare Hono route, raw unnest insert', target: { atLeast: 0.8 },
      })
      for (let r = 0; r < reps; r++) {
        await db.dropTable(`http_ins_${r}`)
        await pg.exec(`drop table raw_ins_${r}`)
      }

      // Reads.
      const { table } = await loadBoth(db, pg, n)
      const ops = readOps(n)
      for (let k = 0; k < ops.length; k++) {
        const op = ops[k]!
        // The JSON form of the very query the library runs (Query.toJSON), as an HTTP client sends it.
        const body = (i: number) => op.query(table, i).toJSON()
        const { a, b } = await latency(reps, op.ops(n), (i) => post(`${tessera.url}/api/v1/query`, body(i)), (i) => post(`${bare.url}/query/${k}`, { i }))
        out.push({ case: 'http', size: n, metric: op.metric, tessera: a, baseline: b, unit: 'us/op', against: 'bare Hono route, same SQL on raw PGlite', ...(op.target ? { target: op.target } : {}) })
      }
    } finally {
      tessera.stop()
      bare.stop()
    }
    return out
  },
}

