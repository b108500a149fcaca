// Serving while writing (issue 15): `tessera serve` on a fresh embedded data dir, in a child process as users run it.
// For each write load, the load runs once on the idle server and once while a prober sends GET /health and a
// primary-key point read over HTTP every 20 ms (similarity searches too during the index rebuild). Printed: probe
// latencies p50/p99/max per load, the loads' own time idle vs probed, and the idle probe latencies as the baseline.
//   npx bun bench/serving.ts [indexedRows=5000] [plainRows=400000] [rebuildRows=20000] [backfillRows=100000]
// (the backfill size is also the update/delete load's: (e) updates every row, deletes half and reverts the delete)
// BENCH_LOADS=d (or e.g. `a,d`): only those loads, by their letter (the idle probes run always).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, loadavg } from 'node:os'
import { join } from 'node:path'

const [INDEXED, PLAIN, REBUILD, BACKFILL] = [5_000, 400_000, 20_000, 100_000].map((d, i) => Number(process.argv[2 + i] ?? d))
const PER_REQUEST = 50_000
const PROBE_EVERY_MS = 20
const BIN = join(import.meta.dir, '../bin/tessera.ts')

const home = mkdtempSync(join(tmpdir(), 'tessera-serving-bench-'))
const port = 20_000 + Math.floor(Math.random() * 20_000)
const base = `http://127.0.0.1:${port}`
const server = Bun.spawn([process.execPath, BIN, 'serve', '--home', home, '--port', String(port), '--quiet'], { stdout: 'pipe', stderr: 'inherit' })
await waitForServer()

const WORDS = 'lava flows ash clouds tides moon magma rock river delta glacier ice wind dune forest canopy reef coral storm rain'.split(' ')
let seed = 11
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const sentence = () => Array.from({ length: 8 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')
const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!)
const f1 = (x: number) => x.toFixed(1)

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${base}/api/v1${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) })
  const text = await r.text()
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`)
  return text ? JSON.parse(text) : undefined
}

async function waitForServer(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return
    } catch {}
    await Bun.sleep(100)
  }
  throw new Error('tessera serve did not start')
}

/** Tables with an embedding index: their native graphs build and catch up in the background (see settled()). */
const indexed: string[] = []

async function table(path: string, rows: number, withIndex = false): Promise<void> {
  await api('POST', '/tables', { path, schema: { id: 'int', text: 'string' }, primaryKey: 'id' })
  if (withIndex) {
    await api('POST', `/tables/${path}/-/indexes`, { column: 'text', name: 'lex', embed: { fn: 'lexical_embed', opts: {}, modality: 'text' } })
    indexed.push(path)
  }
  await insertRows(path, 0, rows)
}

/**
 * Waits until every native index is ready (the index listing's `native.state`): a graph still building or catching
 * up after an earlier step (the 100k-row searched table's takes tens of seconds) would otherwise compete for the two
 * cores with the load measured next, and its idle run and its probed run would not be measured alike.
 */
async function settled(): Promise<void> {
  const began = performance.now()
  for (;;) {
    const states = await Promise.all(indexed.map(async (path) => ((await api('GET', `/tables/${path}/-/indexes`)) as { indexes: { native?: { state: string } }[] }).indexes.map((i) => i.native?.state)))
    if (states.flat().every((state) => state === undefined || state === 'ready' || state === 'not loaded')) break
    await Bun.sleep(250)
  }
  const waited = performance.now() - began
  if (waited > 1_000) console.log(`  (waited ${f1(waited / 1000)} s for native indexes to be ready)`)
}

async function insertRows(path: string, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += PER_REQUEST) {
    const rows = Array.from({ length: Math.min(PER_REQUEST, to - start) }, (_, k) => ({ id: start + k, text: sentence() }))
    await api('POST', `/tables/${path}/-/rows`, { rows })
  }
}

async function waitJob(key: string): Promise<void> {
  for (;;) {
    const j = (await api('GET', `/jobs/${key}`)) as { status: string; error?: string }
    if (j.status === 'done') return
    if (j.status !== 'running') throw new Error(`job ${key} ended ${j.status}: ${j.error}`)
    await Bun.sleep(100)
  }
}

interface Probes {
  health: number[]
  point: number[]
  search: number[]
}

/**
 * Probes every PROBE_EVERY_MS until stopped, from a Worker (bench/lib/prober-worker.ts) so that this thread's own
 * work (building 50k-row bodies) is not counted as the server's latency.
 */
function probe(pointTable: string, maxId: number, searchTable?: string): { stop: () => Promise<Probes> } {
  const worker = new Worker(new URL('./lib/prober-worker.ts', import.meta.url).href)
  const done = new Promise<Probes>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Probes | { failed: string }>) => ('failed' in e.data ? reject(new Error(`probe failed: ${e.data.failed}`)) : resolve(e.data))
    worker.onerror = (e) => reject(new Error(`prober: ${e.message}`))
  })
  worker.postMessage({ start: { base, pointTable, maxId, ...(searchTable ? { searchTable } : {}), everyMs: PROBE_EVERY_MS } })
  return { stop: async () => { worker.postMessage({ stop: true }); const out = await done; worker.terminate(); return out } }
}

const summary = (xs: number[]) => `p50 ${f1(pct(xs, 50))} p99 ${f1(pct(xs, 99))} max ${f1(Math.max(...xs))} ms (${xs.length})`

console.log(`serving bench: indexed ${INDEXED}, plain ${PLAIN}, rebuild ${REBUILD}, backfill ${BACKFILL} rows; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
await api('POST', '/dirs', { path: 'load' })
await table('load/points', 10_000)
await table('load/searched', Math.max(REBUILD, 1_000), true)

await settled()
const idle = probe('load/points', 10_000, 'load/searched')
await Bun.sleep(3_000)
const idleProbes = await idle.stop()
console.log(`idle:            health ${summary(idleProbes.health)}; point ${summary(idleProbes.point)}; search ${summary(idleProbes.search)}`)

interface Load {
  readonly name: string
  /** Prepares a fresh target (not timed) and returns the timed write. */
  readonly prepare: (run: string) => Promise<() => Promise<void>>
  readonly search?: boolean
}

const loads: Load[] = [
  { name: `(a) ${INDEXED}-row insert into an indexed table`, prepare: async (run) => {
    await table(`load/a_${run}`, 0, true)
    return () => insertRows(`load/a_${run}`, 0, INDEXED)
  } },
  { name: `(b) ${PLAIN}-row plain insert (${PER_REQUEST} per request)`, prepare: async (run) => {
    await table(`load/b_${run}`, 0)
    return () => insertRows(`load/b_${run}`, 0, PLAIN)
  } },
  // The rebuild's target is the searched table built at the start (each run re-embeds it at other dims). No table is
  // prepared: a fresh 100k-row indexed one, as the other loads get, was never used, and its own native index build
  // ran in the background through the timed run, competing with the reads being measured.
  { name: `(c) background index rebuild over ${REBUILD} rows`, search: true, prepare: async (run) => {
    return async () => {
      const job = (await api('POST', '/jobs', { table: 'load/searched', column: 'text', index: { name: 'lex', embed: { fn: 'lexical_embed', opts: { dims: 256 + (run === 'idle' ? 0 : 1) }, modality: 'text' } }, ifExists: 'replace' })) as { key?: string; id?: string }
      await waitJob(String(job.key ?? job.id))
    }
  } },
  { name: `(d) ${BACKFILL}-row computed-column backfill`, prepare: async (run) => {
    await table(`load/d_${run}`, BACKFILL)
    return () => api('POST', `/tables/load/d_${run}/-/columns`, { name: 'upper', expr: { fn: 'upper', args: [{ col: 'text' }] } }).then(() => undefined)
  } },
  // Staged on the embedded store too: the rows they end stay current for readers until the final step.
  { name: `(e) update of ${BACKFILL} rows, then delete of ${BACKFILL / 2} and a revert`, prepare: async (run) => {
    await table(`load/e_${run}`, BACKFILL)
    return async () => {
      await api('PATCH', `/tables/load/e_${run}/-/rows`, { values: { text: 'changed' }, where: { fn: 'ge', args: [{ col: 'id' }, { lit: 0 }] } })
      await api('POST', `/tables/load/e_${run}/-/delete`, { where: { fn: 'ge', args: [{ col: 'id' }, { lit: BACKFILL / 2 }] } })
      await api('POST', `/tables/load/e_${run}/-/revert`)
    }
  } },
]

const only = process.env.BENCH_LOADS?.split(',').map((x) => x.trim())
const rows: string[] = []
for (const load of loads) {
  if (only && !only.some((x) => load.name.startsWith(`(${x})`))) continue
  const idleWrite = await load.prepare('idle')
  await settled()
  let t0 = performance.now()
  await idleWrite()
  const idleMs = performance.now() - t0
  const probedWrite = await load.prepare('probed')
  await settled()
  const p = probe('load/points', 10_000, load.search ? 'load/searched' : undefined)
  t0 = performance.now()
  await probedWrite()
  const probedMs = performance.now() - t0
  const r = await p.stop()
  const line = `${load.name}: write ${f1(idleMs / 1000)} s idle, ${f1(probedMs / 1000)} s probed (${(probedMs / idleMs).toFixed(2)}x); health ${summary(r.health)}; point ${summary(r.point)}${load.search ? `; search ${summary(r.search)}` : ''}`
  console.log(line)
  rows.push(line)
}
console.log(`load after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
server.kill('SIGTERM')
await server.exited
rmSync(home, { recursive: true, force: true })
