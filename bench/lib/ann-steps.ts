// Where one similarity search's time goes on the embedded store (issue 16): every store statement a top-10 issues
// (wall time at the driver, store busy time inside the worker, the rest = the worker hop and scheduling), the native
// search, and the query's total, over many queries against one table built once and kept on disk.
// Run: npx bun bench/lib/ann-steps.ts build <N> <random|clustered> <home>   (once: rows, the index, the scalar index;
//        QUANTIZATION=f32|f16|i8 in the environment builds the index with that quantization; without, the
//        cosine default, f16)
//      npx bun bench/lib/ann-steps.ts query <N> <random|clustered> <home> [queries] [explain]
import { readFileSync } from 'node:fs'
import { annVectors } from './ann-vectors.ts'

const [mode, nArg, kind, home, qArg, explainArg] = process.argv.slice(2)
if (!mode || !nArg || !kind || !home) throw new Error('usage: ann-steps.ts build|query <N> <random|clustered> <home> [queries] [explain]')
const N = Number(nArg), D = 384, K = 10, Q = Number(qArg ?? 60)
const { Tessera } = await import('../../src/index.ts')
const { vectorIndexesOf } = await import('../../src/index/index.ts')
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

const db = await Tessera.open({ home })
if (mode === 'build') {
  const { data } = annVectors(N, D, Q, kind)
  const t = await db.createTable('v', { id: 'int', cat: 'int', emb: `array<float32>[${D}]` })
  for (let i = 0; i < N; i += 1000) await t.insert(data.slice(i, i + 1000).map((v, j) => ({ id: i + j, cat: (i + j) % 100, emb: Array.from(v) })))
  const t0 = performance.now()
  const quantization = process.env.QUANTIZATION as 'f32' | 'f16' | 'i8' | undefined
  await t.addEmbeddingIndex('emb', { name: 'e', metric: 'cosine', m: 16, efConstruction: 64, ...(quantization ? { quantization } : {}) })
  await vectorIndexesOf(db.driver)!.entries(t.id)[0]!.settled()
  await t.addScalarIndex('cat')
  console.log(`built ${N} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (load ${load()})`)
  await db.close()
  process.exit(0)
}
// The annVectors stream is fixed by its seed: the queries come after the N rows, so those are generated again, with
// 500 more that warm each case up (measured without a warm-up, a search's statement looked twice its cost).
const { queries: qs, warmQueries } = annVectors(N, D, Q, kind, 500)
const t = await db.getTable('v')
const manager = vectorIndexesOf(db.driver)!
// The first search attaches the index (loaded from disk, then caught up).
await t.orderBy(t.c.emb.similarity({ vector: qs[0]! }), 'desc').limit(K).select({ id: t.c.id }).collect()
await manager.entries(t.id)[0]!.settled()

type Step = { sql: string; params: unknown; wall: number; busy: number }
let steps: Step[] = []
const driver = db.driver as unknown as { query: (...a: unknown[]) => Promise<unknown>; busyMs: number }
const query = driver.query.bind(driver)
driver.query = async (...a: unknown[]) => {
  const b0 = driver.busyMs, t0 = performance.now()
  const r = await query(...a)
  steps.push({ sql: String(a[0]), params: a[1], wall: performance.now() - t0, busy: driver.busyMs - b0 })
  return r
}
const entry = manager.entries(t.id)[0]!
let nativeMs = 0
const native = entry.native!
const search = native.search.bind(native)
native.search = async (q: Float32Array, count: number) => {
  const t0 = performance.now()
  const r = await search(q, count)
  nativeMs += performance.now() - t0
  return r
}

const median = (x: number[]): number => [...x].sort((a, b) => a - b)[x.length >> 1] ?? NaN
const label = (sql: string): string => sql.replace(/\s+/g, ' ').slice(0, 110)
if (explainArg === 'micro') {
  // The unfiltered final statement alone, in variants: what of its store time is planning, parsing, the hop.
  steps = []
  await t.orderBy(t.c.emb.similarity({ vector: qs[1]! }), 'desc').limit(K).select({ id: t.c.id }).collect()
  const final = steps.at(-1)!
  const sql = final.sql, params = final.params as unknown[]
  // The final statement as this branch writes it (the query vector as text, cast in an InitPlan only if a newer row
  // needs it) against the form before it (a parameter typed vector, parsed when bound), alternating, 60 each.
  const before = sql.replace(/\(select concat\((\$\d+)::text\)::vector\((\d+)\)\)/, '$1::vector($2)')
  const forms = [['before (vector parameter)', before], ['after (text, InitPlan)', sql]] as const
  const wall: number[][] = [[], []], busy: number[][] = [[], []]
  for (let i = 0; i < 65; i++) {
    for (const [f, [, text]] of forms.entries()) {
      const b0 = driver.busyMs, t0 = performance.now()
      await query(text, params)
      if (i < 5) continue
      wall[f]!.push(performance.now() - t0)
      busy[f]!.push(driver.busyMs - b0)
    }
  }
  for (const [f, [name]] of forms.entries()) console.log(`${name}: wall ${median(wall[f]!).toFixed(2)} busy ${median(busy[f]!).toFixed(2)} ms (load ${load()})`)
  const plans: number[] = [], execs: number[] = []
  for (let i = 0; i < 20; i++) {
    const r = await query(`explain analyze ${sql}`, params) as { rows: Record<string, string>[] }
    const text = r.rows.map((x) => Object.values(x)[0]).join('\n')
    plans.push(Number(/Planning Time: ([0-9.]+)/.exec(text)![1]))
    execs.push(Number(/Execution Time: ([0-9.]+)/.exec(text)![1]))
  }
  console.log(`explain analyze: planning ${median(plans).toFixed(2)} execution ${median(execs).toFixed(2)} ms`)
  console.log(sql)
  await db.close()
  process.exit(0)
}
for (const p of [100, 50, 10, 1]) {
  const run = (q: Float32Array) => {
    const sim = t.c.emb.similarity({ vector: q })
    const base = p >= 100 ? t.query() : t.where(t.c.cat.lt(p))
    return base.orderBy(sim, 'desc').limit(K).select({ id: t.c.id }).collect()
  }
  for (const q of warmQueries) await run(q)
  // CPU time of the whole process (serving thread, store worker, index worker) per query: what a search costs,
  // which the load on a shared machine changes far less than its wall time.
  const cpu: number[] = []
  const total: number[] = [], nat: number[] = [], stmtWall: number[] = [], stmtBusy: number[] = [], count: number[] = []
  const byLabel = new Map<string, { wall: number[]; busy: number[] }>()
  for (const q of qs) {
    steps = []
    nativeMs = 0
    const t0 = performance.now(), c0 = process.cpuUsage()
    await run(q)
    total.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
    nat.push(nativeMs)
    stmtWall.push(steps.reduce((s, x) => s + x.wall, 0))
    stmtBusy.push(steps.reduce((s, x) => s + x.busy, 0))
    count.push(steps.length)
    steps.forEach((s, i) => {
      const key = `#${i} ${label(s.sql)}`
      const e = byLabel.get(key) ?? { wall: [], busy: [] }
      e.wall.push(s.wall)
      e.busy.push(s.busy)
      byLabel.set(key, e)
    })
  }
  console.log(`\n== ${p}% (N ${N}, ${Q} queries, load ${load()}): total p50 ${median(total).toFixed(2)} ms, CPU ${median(cpu).toFixed(2)} ms; native ${median(nat).toFixed(2)}; statements ${median(count)} with wall ${median(stmtWall).toFixed(2)} / store busy ${median(stmtBusy).toFixed(2)} ms; outside statements+native ${median(total.map((x, i) => x - stmtWall[i]! - nat[i]!)).toFixed(2)} ms`)
  for (const [key, e] of byLabel) console.log(`   ${e.wall.length}x wall ${median(e.wall).toFixed(2)} busy ${median(e.busy).toFixed(2)}  ${key}`)
  if (explainArg === 'explain') {
    steps = []
    await run(qs[1]!)
    const recorded = steps
    for (const step of recorded) {
      if (!step.sql.startsWith('select t0.')) continue
      console.log(`   statement: ${step.sql.replace(/\s+/g, ' ').slice(0, 1500)}`)
      const plan = await query(`explain (analyze, buffers) ${step.sql}`, step.params) as { rows: Record<string, string>[] }
      for (const row of plan.rows) console.log(`      ${Object.values(row)[0]}`)
    }
  }
}
await db.close()
process.exit(0)
