// Background embedding index build (db.jobs.startIndex) vs the blocking addEmbeddingIndex on the same table, in one
// run: total build time, and how long a single-row insert waits while each runs (the point of building in the
// background is that writes keep going). Run: npx bun bench/index-job.ts [N=10000] [batchSize=1000]
import { Tessera, embedders } from '../src/index.ts'

const N = Number(process.argv[2] ?? 10_000)
const BATCH = process.argv[3] === undefined ? undefined : Number(process.argv[3])
const WORDS = 'time year people way day man thing woman life child world school state family student group country problem hand part place case week company system program question work government number night point home water room mother area money story fact month lot right study book eye job word business issue side kind head house service friend father power hour game'.split(' ')
let seed = 7
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const sentence = (n = 10) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN
const fmt = (x: number) => x.toFixed(1)

const db = await Tessera.memory()
const t = await db.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, text: sentence() })))
let nextId = N

/**
 * Wants to insert one row every 50 ms until stopped; returns each insert's latency counted from when it was due, so
 * time the process spent unable to start it (PGlite runs SQL on the JS thread: a long statement stalls everything,
 * HTTP requests included) counts too.
 */
function writer(): { stop: () => Promise<number[]> } {
  const lat: number[] = []
  let running = true
  const start = performance.now()
  const loop = (async () => {
    for (let k = 1; running; k++) {
      const due = start + k * 50
      const wait = due - performance.now()
      if (wait > 0) await Bun.sleep(wait)
      await t.insert({ id: nextId++, text: sentence() })
      lat.push(performance.now() - due)
      // Skip the slots that passed while this insert waited: one pending write at a time, like a client would.
      while (start + (k + 1) * 50 < performance.now()) k++
    }
  })()
  return { stop: async () => ((running = false), await loop, lat) }
}

let w = writer()
let t0 = performance.now()
await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 128 }), name: 'lex' })
const syncMs = performance.now() - t0
const syncLat = await w.stop()

w = writer()
t0 = performance.now()
const job = await db.jobs.startIndex({ table: t, column: 'text', embed: embedders.lexical({ dims: 64 }), name: 'lex', ifExists: 'replace', ...(BATCH ? { batchSize: BATCH } : {}) })
const done = await db.jobs.wait(job.id)
const jobMs = performance.now() - t0
const jobLat = await w.stop()
if (done.status !== 'done') throw new Error(`job ended ${done.status}: ${done.error}`)

console.log(`N=${N}: addEmbeddingIndex ${fmt(syncMs / 1000)} s; an insert issued meanwhile waited p50 ${fmt(pct(syncLat, 50))} ms, max ${fmt(Math.max(...syncLat))} ms (${syncLat.length} inserts)`)
console.log(`N=${N}: jobs.startIndex (batch ${BATCH ?? 'default'}) ${fmt(jobMs / 1000)} s; inserts meanwhile p50 ${fmt(pct(jobLat, 50))} ms, max ${fmt(Math.max(...jobLat))} ms (${jobLat.length} inserts)`)
console.log(`background/blocking build time ratio ${fmt(jobMs / syncMs)}; worst insert wait ratio ${fmt(Math.max(...jobLat) / Math.max(...syncLat))}`)
await db.close()
