import { expect, test } from 'bun:test'
import { CASES, runBench } from '../../bench/run.ts'
import { ratio } from '../../bench/lib/harness.ts'
import { throwing } from '../support/settle.ts'
import { modelsMissing } from '../support/db.ts'

// Keeps the bench harness from rotting: every case runs at a tiny size and reports finite figures for both sides.
// No timing is asserted here; the figures live in BENCHMARKS.md.

test('every bench case runs at 200 rows and reports Tessera, baseline and ratio', async () => {
  const results = await runBench({ sizes: [200], reps: 1, quiet: true })
  for (const c of CASES) expect(results.some((m) => m.case === c.name)).toBe(true)
  for (const m of results) {
    expect(m.size).toBe(200)
    expect(Number.isFinite(m.tessera) && m.tessera > 0).toBe(true)
    expect(Number.isFinite(m.baseline) && m.baseline > 0).toBe(true)
    expect(Number.isFinite(ratio(m))).toBe(true)
  }
  const metrics = new Set(results.map((m) => `${m.case}: ${m.metric}`))
  for (const want of ['insert: insert rows/s', 'query: point query by primary key', 'versions: time travel: point query by primary key', 'memory: peak RSS']) {
    expect(metrics.has(want)).toBe(true)
  }
}, 240_000)

// BENCHMARKS.md keeps the machine's load beside each run (issue 22): npm run bench prints it in its header, beside
// each case's time and at the end.
test('npm run bench prints the load beside the run and each case', async () => {
  const proc = Bun.spawn([process.execPath, 'bench/run.ts', 'query'], { cwd: `${import.meta.dir}/../..`, env: { ...process.env, BENCH_SIZES: '200', BENCH_REPS: '1', BENCH_READS: 'point' }, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(code, err).toBe(0)
  const load = String.raw`\d+\.\d\d \d+\.\d\d \d+\.\d\d`
  expect(out).toMatch(new RegExp(`^Tessera bench: .*, load ${load}$`, 'm'))
  expect(out).toMatch(new RegExp(`\\(query 200 took [0-9.]+ s; load ${load} before, ${load} after\\)`))
  expect(out).toMatch(new RegExp(`^total \\d+ s, load ${load} at the end$`, 'm'))
}, 120_000)

test('an unknown case name is refused with the list of cases', async () => {
  await expect(await throwing(runBench({ cases: ['nope'], sizes: [200], quiet: true }))).toThrow(/unknown bench case\(s\): nope; cases are: insert, computed/)
})

// The standalone benchmarks run at a tiny size too, so their baselines and printed ratios keep working.
async function runsAtTinySize(script: string, args: string[], want: RegExp): Promise<void> {
  const proc = Bun.spawn([process.execPath, script, ...args], { cwd: `${import.meta.dir}/../..`, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(code, err).toBe(0)
  expect(out).toMatch(want)
}

test('bench/index-job.ts runs at a tiny size and prints its ratio', () => runsAtTinySize('bench/index-job.ts', ['300'], /background\/blocking build time ratio \d/), 240_000)

// It embeds photos with the MobileNet model of the test data beside the checkout: skipped, saying why, without it.
const embeddingBenchData = ['mobilenetv2/mobilenetv2-12-int8.onnx', ...['dog', 'eagle', 'giraffe', 'horses', 'person', 'kite', 'scream'].map((n) => `testdata/${n}.jpg`)]
test.skipIf(!!modelsMissing(...embeddingBenchData))('bench/embedding.ts runs at a tiny size and prints its ratio', () => runsAtTinySize('bench/embedding.ts', ['300'], /hybrid search .* tessera\/raw p50 ratio \d/), 240_000)

test('bench/stream.ts runs at a tiny size and prints its ratios', () => runsAtTinySize('bench/stream.ts', ['2000', '300', '1'], /x collect, [\d.]+x keyset/), 120_000)
