import { writeFileSync } from 'node:fs'
import { compactionCase } from './cases/compaction.ts'
import { httpCase } from './cases/http.ts'
import { httpLoadCase } from './cases/http-load.ts'
import { computedInsertCase, insertCase } from './cases/insert.ts'
import { memoryCase } from './cases/memory.ts'
import { queryCase } from './cases/query.ts'
import { versionsCase } from './cases/versions.ts'
import { BenchEnv } from './lib/env.ts'
import type { BenchCase, Measurement } from './lib/harness.ts'
import { fmtSize, header, line, loadText, machine, scaling } from './lib/report.ts'

// Tessera's performance baseline. Every case measures Tessera and its baseline in the same process and run.
//   bun bench/run.ts                  all cases at 10k and 100k rows
//   bun bench/run.ts insert query     some cases
//   BENCH_LARGE=1 bun bench/run.ts    adds 1M rows
//   BENCH_SIZES=200 BENCH_REPS=1      any sizes / repetitions; --json=out.json writes the measurements

export const CASES: readonly BenchCase[] = [insertCase, computedInsertCase, queryCase, httpCase, httpLoadCase, versionsCase, memoryCase, compactionCase]

export interface RunOptions {
  readonly cases?: readonly string[]
  readonly sizes?: readonly number[]
  readonly reps?: number
  readonly quiet?: boolean
}

export async function runBench(options: RunOptions = {}): Promise<Measurement[]> {
  const print = options.quiet ? () => undefined : (s: string) => console.log(s)
  const selected = options.cases && options.cases.length > 0 ? options.cases : CASES.map((c) => c.name)
  const unknown = selected.filter((n) => !CASES.some((c) => c.name === n))
  if (unknown.length > 0) throw new Error(`unknown bench case(s): ${unknown.join(', ')}; cases are: ${CASES.map((c) => c.name).join(', ')}`)
  const sizes = options.sizes ?? [10_000, 100_000]
  const env = new BenchEnv()
  const results: Measurement[] = []
  try {
    print(header())
    for (const c of CASES.filter((x) => selected.includes(x.name))) {
      for (const size of sizes) {
        if (c.maxSize !== undefined && size > c.maxSize) continue
        const reps = options.reps ?? (size >= 1_000_000 ? 1 : 3)
        const t0 = performance.now(), loadBefore = loadText()
        const ms = await c.run({ env, size, reps, log: (msg) => print(`  ${c.name} ${fmtSize(size)}: ${msg}`) })
        await env.closeOpen()
        for (const m of ms) print(line(m))
        print(`  (${c.name} ${fmtSize(size)} took ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${loadBefore} before, ${loadText()} after)`)
        results.push(...ms)
      }
    }
  } finally {
    await env.close()
  }
  const sc = scaling(results)
  if (sc.length > 0) {
    print('\nScaling (per-row cost, largest vs smallest size; 1.0 = linear):')
    for (const s of sc) print(`  ${s}`)
  }
  return results
}

if (import.meta.main) {
  const args = process.argv.slice(2)
  const json = args.find((a) => a.startsWith('--json='))?.slice('--json='.length)
  const cases = args.filter((a) => !a.startsWith('--'))
  const sizes = process.env.BENCH_SIZES
    ? process.env.BENCH_SIZES.split(',').map(Number)
    : [10_000, 100_000, ...(process.env.BENCH_LARGE ? [1_000_000] : [])]
  const m = machine()
  console.log(`Tessera bench: ${m.date}, ${m.nproc} CPUs (${m.cpu}), bun ${m.bun}, sizes ${sizes.map(fmtSize).join('/')}, load ${m.load}`)
  const t0 = performance.now()
  const results = await runBench({ cases, sizes, ...(process.env.BENCH_REPS ? { reps: Number(process.env.BENCH_REPS) } : {}) })
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadText()} at the end`)
  if (json) writeFileSync(json, JSON.stringify({ machine: m, sizes, results }, null, 2))
}
