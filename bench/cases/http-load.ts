import { loadavg } from 'node:os'
import { Hono } from 'hono'
import { createApp } from '../../src/server/app.ts'
import type { BenchCase, Measurement } from '../lib/harness.ts'
import { median } from '../lib/harness.ts'
import { loadBoth } from '../lib/setup.ts'
import { bareApp, serve } from './http.ts'
import { readOps } from './query.ts'

// HTTP point reads under load: CLIENTS concurrent clients send point queries by primary key for SECONDS, to
// Tessera's app (POST /api/v1/query with the query's JSON form) and to a bare Hono route running the same SQL on raw
// PGlite, both served by Bun.serve in this process. Each round measures both sides (the order rotates); the figures
// are the medians over the rounds of requests per second and of the 99th-percentile latency. A third server, the
// library's own query behind the bare route, splits the gap into the library's share and the HTTP layer's.

const CLIENTS = Number(process.env.BENCH_HTTP_CLIENTS ?? 32)
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5)

interface LoadResult { readonly rps: number; readonly p99: number }

async function load(send: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const times: number[] = []
  const end = performance.now() + SECONDS * 1000
  let next = 0
  const client = async () => {
    while (performance.now() < end) {
      const i = next++
      const t0 = performance.now()
      await send(i)
      times.push(performance.now() - t0)
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CLIENTS }, client))
  const elapsed = (performance.now() - t0) / 1000
  const sorted = times.sort((a, b) => a - b)
  return { rps: times.length / elapsed, p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! }
}

async function post(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`)
  await res.arrayBuffer()
}

export const httpLoadCase: BenchCase = {
  name: 'http-load',
  description: `HTTP point reads by primary key, ${CLIENTS} concurrent clients: Tessera app vs a bare Hono route over raw PGlite`,
  async run(ctx) {
    const { size: n, reps } = ctx
    const { db } = await ctx.env.tessera()
    const { pg } = await ctx.env.raw()
    const { table } = await loadBoth(db, pg, n)
    const point = readOps(n)[0]!
    const bodies = Array.from({ length: 1000 }, (_, i) => JSON.stringify(point.query(table, i).toJSON()))
    const tessera = serve(createApp(db).fetch)
    const bare = serve(bareApp(pg, n).fetch)
    // The library's own query behind the same bare route: splits Tessera's figure into the library's cost and the
    // HTTP layer's (routing, auth, media context, JSON query reading, answer writing).
    const libApp = new Hono()
    libApp.post('/query', async (c) => {
      const { i } = (await c.req.json()) as { i: number }
      return c.json((await point.query(table, i).collect()).toJSON())
    })
    const lib = serve(libApp.fetch)
    const sides = [
      (i: number) => post(`${tessera.url}/api/v1/query`, bodies[i % bodies.length]!),
      (i: number) => post(`${bare.url}/query/0`, `{"i":${i}}`),
      (i: number) => post(`${lib.url}/query`, `{"i":${i}}`),
    ]
    const names = ['tessera', 'bare   ', 'library']
    const results: LoadResult[][] = [[], [], []]
    try {
      for (let i = 0; i < 200; i++) for (const s of sides) await s(i) // warm-up: JIT, plan caches, buffers
      for (let r = 0; r < reps; r++) {
        for (let k = 0; k < sides.length; k++) {
          const side = (k + r) % sides.length
          const res = await load(sides[side]!)
          results[side]!.push(res)
          ctx.log(`round ${r + 1} ${names[side]}: ${res.rps.toFixed(0)} req/s, p99 ${res.p99.toFixed(1)} ms (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`)
        }
      }
    } finally {
      tessera.stop()
      bare.stop()
      lib.stop()
    }
    const med = (side: number, f: (x: LoadResult) => number) => median(results[side]!.map(f))
    const against = `bare Hono route, same SQL on raw PGlite (${CLIENTS} clients, ${SECONDS} s, median of ${reps})`
    const out: Measurement[] = [
      { case: 'http-load', size: n, metric: 'point reads req/s', tessera: med(0, (x) => x.rps), baseline: med(1, (x) => x.rps), unit: 'req/s', higherIsBetter: true, against, target: { atLeast: 0.9 } },
      { case: 'http-load', size: n, metric: 'point reads p99', tessera: med(0, (x) => x.p99), baseline: med(1, (x) => x.p99), unit: 'ms', against, target: { atMost: 1.2 } },
      // Not a target: where the gap is. Tessera's app against the library's query behind the bare route.
      { case: 'http-load', size: n, metric: 'point reads req/s, HTTP layer only', tessera: med(0, (x) => x.rps), baseline: med(2, (x) => x.rps), unit: 'req/s', higherIsBetter: true, against: `the library's query behind the bare Hono route (${CLIENTS} clients, median of ${reps})` },
      { case: 'http-load', size: n, metric: 'point reads req/s, library behind bare route', tessera: med(2, (x) => x.rps), baseline: med(1, (x) => x.rps), unit: 'req/s', higherIsBetter: true, against: 'the bare Hono route over raw PGlite' },
    ]
    return out
  },
}
