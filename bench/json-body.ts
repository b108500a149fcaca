// Big JSON request bodies and answers (issue 15): how long the serving thread is held while one is read and parsed,
// or written.
// Baseline: what the request layer did before, `await req.text()` then one `JSON.parse`. Tessera: the sliced read and
// parse of src/server/json-body.ts. Both read the same bytes from a stream of 64 kB chunks (as a socket delivers them)
// in the same process, alternated; a 1 ms timer records the longest gap between its ticks (the longest time another
// request would have waited), and wall time is the whole read + parse.
// Answers: one JSON.stringify of {columns, rows} (before) against reading src/server/json.ts's sliced stream to its end.
//   `bun bench/json-body.ts [rows=100000] [reps=3]`  (100,000 rows is the default per-request insert cap and answer
//   row cap; ~10 MB)
import { MAX_JSON_DEPTH } from '../src/server/request.ts'
import { parseJsonStream } from '../src/server/json-body.ts'
import { slicedJson } from '../src/server/json.ts'
import { median } from './lib/harness.ts'

const rows = Number(process.argv[2] ?? 100_000)
const reps = Number(process.argv[3] ?? 3)

const body = JSON.stringify({
  rows: Array.from({ length: rows }, (_, i) => ({ id: i, name: `name ${i}`, score: i / 3, cat: `c${i % 10}`, meta: { a: i, tags: ['x', 'y'] } })),
})
const bytes = new TextEncoder().encode(body)

function chunked(): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.subarray(at, at + 65_536))
      at += 65_536
    },
  })
}

/** Runs `work` with a 1 ms timer beside it: its wall time and the longest gap the timer saw. */
async function measured(work: () => Promise<unknown>): Promise<{ ms: number; gap: number }> {
  let last = performance.now()
  let gap = 0
  const timer = setInterval(() => {
    const now = performance.now()
    gap = Math.max(gap, now - last)
    last = now
  }, 1)
  await Bun.sleep(5)
  last = performance.now()
  const start = performance.now()
  await work()
  const ms = performance.now() - start
  await Bun.sleep(3)
  clearInterval(timer)
  return { ms, gap: Math.max(gap, performance.now() - last) }
}

const whole = async () => JSON.parse(await new Response(chunked()).text())
const sliced = () => parseJsonStream(chunked(), { maxDepth: MAX_JSON_DEPTH })

const out = { whole: [] as { ms: number; gap: number }[], sliced: [] as { ms: number; gap: number }[] }
await whole() // warm both paths once
await sliced()
for (let r = 0; r < reps; r++) {
  for (const side of r % 2 === 0 ? (['whole', 'sliced'] as const) : (['sliced', 'whole'] as const)) {
    Bun.gc(true)
    out[side].push(await measured(side === 'whole' ? whole : sliced))
  }
}
const m = (side: keyof typeof out, k: 'ms' | 'gap') => median(out[side].map((x) => x[k]))
console.log(`json body: ${rows} rows, ${(bytes.length / 1e6).toFixed(1)} MB, ${reps} reps alternated, load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`)
console.log(`  wall:        whole ${m('whole', 'ms').toFixed(0)} ms, sliced ${m('sliced', 'ms').toFixed(0)} ms, ratio ${(m('sliced', 'ms') / m('whole', 'ms')).toFixed(2)}`)
console.log(`  longest gap: whole ${m('whole', 'gap').toFixed(0)} ms, sliced ${m('sliced', 'gap').toFixed(0)} ms, ratio ${(m('sliced', 'gap') / m('whole', 'gap')).toFixed(2)}`)

const answer = { columns: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }], rows: (JSON.parse(body) as { rows: unknown[] }).rows }
const written = { whole: [] as { ms: number; gap: number }[], sliced: [] as { ms: number; gap: number }[] }
const writeWhole = async () => new TextEncoder().encode(JSON.stringify(answer))
const writeSliced = async () => new Response(slicedJson(answer, undefined)).arrayBuffer()
for (let r = 0; r < reps; r++) {
  for (const side of r % 2 === 0 ? (['whole', 'sliced'] as const) : (['sliced', 'whole'] as const)) {
    Bun.gc(true)
    written[side].push(await measured(side === 'whole' ? writeWhole : writeSliced))
  }
}
const w = (side: keyof typeof written, k: 'ms' | 'gap') => median(written[side].map((x) => x[k]))
console.log(`answer of ${rows} rows:`)
console.log(`  wall:        whole ${w('whole', 'ms').toFixed(0)} ms, sliced ${w('sliced', 'ms').toFixed(0)} ms, ratio ${(w('sliced', 'ms') / w('whole', 'ms')).toFixed(2)}`)
console.log(`  longest gap: whole ${w('whole', 'gap').toFixed(0)} ms, sliced ${w('sliced', 'gap').toFixed(0)} ms, ratio ${(w('sliced', 'gap') / w('whole', 'gap')).toFixed(2)}`)
