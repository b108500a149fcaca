// Where the store hop's time goes (issue 22): a point read by key through the store worker (PGliteDriver) against
// the same prepared statement on PGlite in this thread, and the bare transports a hop could use, alternated in
// blocks of 100 operations. Each line is a median over blocks of wall time and of the process's CPU time (all
// threads) per operation: on a shared machine the CPU time moves far less with the load than wall time does.
//   `N=100000 GAP_MS=1 bun bench/hop.ts` (rows, default 10k; GAP_MS: this thread busy that long before each operation,
//   as in the query bench where the other sides run between two library reads, so the worker has gone idle).
import { PGliteDirect, PGliteDriver } from '../src/store/index.ts'
import { median } from './lib/harness.ts'

const n = Number(process.env.N ?? 10_000)
const gapMs = Number(process.env.GAP_MS ?? 0)
const blocks = Number(process.env.BLOCKS ?? 40)
const BLOCK = 100

// Bench code writes its own SQL: the same table on both stores, the same statement the library runs for a key.
const setup = `create table data (id bigint primary key, name text, cat text, score float8, meta jsonb);
  insert into data select i, 'name-' || i, 'c' || (i % 10), (i % 1000)::float8 / 3, jsonb_build_object('a', i, 'b', 'x') from generate_series(1, ${n}) i;
  analyze data`
const sql = 'select id, name, cat, score, meta from data where id = $1'
const key = (i: number) => 1 + ((i * 7919) % n)

const direct = await PGliteDirect.open()
await direct.exec(setup)
const driver = await PGliteDriver.open()
await driver.exec(setup)

const echo = new Worker(new URL('./lib/hop-echo-worker.ts', import.meta.url).href, { type: 'module' })
const waiting = new Map<number, () => void>()
echo.onmessage = (e: MessageEvent<{ id: number }>) => {
  waiting.get(e.data.id)?.()
  waiting.delete(e.data.id)
}
let nextId = 1
const posted = (i: number) => new Promise<void>((resolve) => {
  const id = nextId++
  waiting.set(id, resolve)
  echo.postMessage({ id, op: 'query', sql, params: [key(i)], prepare: true })
})

const sharedWorker = new Worker(new URL('./lib/hop-echo-worker.ts', import.meta.url).href, { type: 'module' })
const shared = new SharedArrayBuffer(1 << 16)
const state = new Int32Array(shared, 0, 16)
const bytes = new Uint8Array(shared, 64)
sharedWorker.postMessage({ id: 0, shared })
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const viaShared = async (i: number) => {
  state[1] = encoder.encodeInto(JSON.stringify({ id: nextId++, op: 'query', sql, params: [key(i)], prepare: true }), bytes).written
  Atomics.store(state, 0, 1)
  Atomics.notify(state, 0)
  while (Atomics.load(state, 3) !== 1) {
    const w = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } }).waitAsync(state, 3, 0)
    if (w.async) await w.value
  }
  Atomics.store(state, 3, 0)
  return JSON.parse(decoder.decode(bytes.slice(0, state[2]!)))
}

const sides: [string, (i: number) => Promise<unknown>][] = [
  ['prepared point read, PGlite in this thread', (i) => direct.query(sql, [key(i)], { prepare: true })],
  ['prepared point read, through the store worker', (i) => driver.query(sql, [key(i)], { prepare: true })],
  ['bare round trip: postMessage, same request and a row', posted],
  ['bare round trip: SharedArrayBuffer + Atomics, JSON', viaShared],
]
const wall = sides.map(() => [] as number[])
const cpu = sides.map(() => [] as number[])
const busy: number[] = []
const spin = () => {
  const end = performance.now() + gapMs
  while (performance.now() < end);
}
for (let i = 0; i < 200; i++) for (const [, side] of sides) await side(i)
let op = 0
for (let b = 0; b < blocks; b++) {
  for (let k = 0; k < sides.length; k++) {
    const s = (b + k) % sides.length
    let spent = 0
    const busy0 = driver.busyMs
    const c0 = process.cpuUsage()
    for (let j = 0; j < BLOCK; j++) {
      if (gapMs) spin()
      const t0 = performance.now()
      await sides[s]![1](op++)
      spent += performance.now() - t0
    }
    const c = process.cpuUsage(c0)
    wall[s]!.push((spent / BLOCK) * 1000)
    // CPU of the gap spin is not the operation's: it is taken out at one microsecond per microsecond spun.
    cpu[s]!.push((c.user + c.system) / BLOCK - gapMs * 1000)
    if (s === 1) busy.push(((driver.busyMs - busy0) / BLOCK) * 1000)
  }
}
const us = (x: number) => `${x.toFixed(1).padStart(7)} us`
const w = wall.map(median)
const c = cpu.map(median)
console.log(`store hop, n=${n} rows, gap ${gapMs} ms, ${blocks} blocks of ${BLOCK}, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`)
for (let s = 0; s < sides.length; s++) console.log(`${sides[s]![0].padEnd(54)} wall ${us(w[s]!)}   cpu ${us(c[s]!)}`)
console.log(`the hop (worker minus in-thread):                       wall ${us(w[1]! - w[0]!)}   cpu ${us(c[1]! - c[0]!)}`)
console.log(`time the worker reported for the statement (busyMs):    wall ${us(median(busy))}`)
await driver.close()
await direct.close()
echo.terminate()
Atomics.store(state, 0, -1)
Atomics.notify(state, 0)
sharedWorker.terminate()
