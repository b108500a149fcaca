// Import throughput, three loaders of the same generated CSV in one process and run, each on its own data dir:
//   tessera : importFile (csv-records → convert once → each batch COPYed in binary straight into the data table under
//             one streamed version, the next batch prepared while the store worker copies this one)
//   COPY    : raw PGlite `COPY … FROM '/dev/blob'` of the whole file into a plain table (the floor)
//   loader  : a plain csv-parse → unnest() batch loader into a plain table, in one transaction (what a user would write)
// Reps alternate the loaders; medians are printed with the ratios, the load average, and Tessera's peak RSS growth
// during its import (the file is streamed; COPY is handed the whole file as a Blob, which is how PGlite takes it).
// Each loader's process CPU time (every thread: Tessera's store worker too) is printed beside its wall time: on a
// shared, loaded machine wall time mostly measures the other sessions, CPU time what the loader itself costs. The
// store's busy time per batch (each batch is one store step that reads wait behind, issue 15) is printed for Tessera.
//
//   npx bun bench/import.ts [rows=1000000] [reps=3] [batchSize=10000]

import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { parse } from 'csv-parse'
import { Tessera } from '../src/index.ts'
import { importFile } from '../src/io/index.ts'

const rows = Number(process.argv[2] ?? 1_000_000)
const reps = Number(process.argv[3] ?? 3)
const batchSize = Number(process.argv[4] ?? 10_000)
const work = mkdtempSync(join(tmpdir(), 'tessera-bench-import-'))
const csv = join(work, 'data.csv')
const COLUMNS = 'id bigint, name text, score double precision, flag boolean, ts timestamptz'

function generate(): void {
  const fd = openSync(csv, 'w')
  writeSync(fd, 'id,name,score,flag,ts\n')
  let buf = ''
  for (let i = 0; i < rows; i++) {
    buf += `${i},name ${i % 9973},${(i * 0.25).toFixed(2)},${i % 2 === 0},2024-01-01T00:${String((i >> 6) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z\n`
    if (buf.length > 1 << 20) {
      writeSync(fd, buf)
      buf = ''
    }
  }
  writeSync(fd, buf)
  closeSync(fd)
}

const mb = (b: number) => Math.round(b / 1048576)
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ')
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
generate()
console.log(`${rows.toLocaleString()} rows, ${mb(statSync(csv).size)} MB CSV, batch ${batchSize}, ${reps} reps; load ${load()}`)

const cpuSeconds = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1e6
}
const cpu = { tessera: [] as number[], copy: [] as number[], loader: [] as number[] }
const stepMs: number[] = []

async function tessera(rep: number): Promise<{ s: number; rss: number }> {
  const db = await Tessera.open({ home: join(work, `tessera_${rep}`) })
  const rssBefore = process.memoryUsage().rss
  let peak = rssBefore
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  const driver = db.driver as { busyMs?: number }
  let busy = driver.busyMs ?? 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const result = await importFile(db, 'bench', csv, {
    batchSize,
    schema: { id: 'int', name: 'string', score: 'float', flag: 'bool', ts: 'timestamp' },
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().rss)
      const now = driver.busyMs ?? 0
      stepMs.push(now - busy)
      busy = now
    },
  })
  const s = (performance.now() - t0) / 1000
  cpu.tessera.push(cpuSeconds(c0))
  clearInterval(sampler)
  if (result.rowsInserted !== rows || result.versions.length !== 1) throw new Error(`imported ${result.rowsInserted} rows in ${result.versions.length} versions`)
  await db.close()
  return { s, rss: peak - rssBefore }
}

async function rawCopy(rep: number): Promise<number> {
  const pg = await PGlite.create({ dataDir: join(work, `copy_${rep}`) })
  await pg.exec(`create table t (${COLUMNS})`)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await pg.query(`copy t (id, name, score, flag, ts) from '/dev/blob' with (format csv, header true)`, [], { blob: new Blob([readFileSync(csv)]) })
  const s = (performance.now() - t0) / 1000
  cpu.copy.push(cpuSeconds(c0))
  await check(pg)
  await pg.close()
  return s
}

async function plainLoader(rep: number): Promise<number> {
  const pg = await PGlite.create({ dataDir: join(work, `loader_${rep}`) })
  await pg.exec(`create table t (${COLUMNS})`)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await pg.transaction(async (tx) => {
    const cols: unknown[][] = [[], [], [], [], []]
    const flush = async () => {
      await tx.query('insert into t select * from unnest($1::bigint[], $2::text[], $3::float8[], $4::boolean[], $5::timestamptz[])', cols.map((c) => c.splice(0)))
    }
    for await (const r of createReadStream(csv).pipe(parse({ from_line: 2 })) as AsyncIterable<string[]>) {
      cols[0]!.push(Number(r[0]))
      cols[1]!.push(r[1])
      cols[2]!.push(Number(r[2]))
      cols[3]!.push(r[3] === 'true')
      cols[4]!.push(r[4])
      if (cols[0]!.length >= 5000) await flush()
    }
    if (cols[0]!.length > 0) await flush()
  })
  const s = (performance.now() - t0) / 1000
  cpu.loader.push(cpuSeconds(c0))
  await check(pg)
  await pg.close()
  return s
}

async function check(pg: PGlite): Promise<void> {
  const n = (await pg.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n
  if (n !== rows) throw new Error(`loaded ${n} rows, expected ${rows}`)
}

const times = { tessera: [] as number[], copy: [] as number[], loader: [] as number[] }
const rss: number[] = []
for (let r = 0; r < reps; r++) {
  // Rotate the order so no loader always runs first (warm caches) or last.
  const order = [0, 1, 2].map((k) => (k + r) % 3)
  for (const k of order) {
    if (k === 0) {
      const t = await tessera(r)
      times.tessera.push(t.s)
      rss.push(t.rss)
    } else if (k === 1) times.copy.push(await rawCopy(r))
    else times.loader.push(await plainLoader(r))
  }
  console.log(`rep ${r + 1}: tessera ${times.tessera[r]!.toFixed(2)} s (CPU ${cpu.tessera[r]!.toFixed(2)} s), COPY ${times.copy[r]!.toFixed(2)} s (CPU ${cpu.copy[r]!.toFixed(2)} s), loader ${times.loader[r]!.toFixed(2)} s (CPU ${cpu.loader[r]!.toFixed(2)} s), tessera RSS +${mb(rss[r]!)} MB; load ${load()}`)
}
const rate = (s: number[]) => rows / median(s)
console.log(`tessera importFile : ${Math.round(rate(times.tessera)).toLocaleString()} rows/s (median ${median(times.tessera).toFixed(2)} s, one version)`)
console.log(`raw PGlite COPY    : ${Math.round(rate(times.copy)).toLocaleString()} rows/s (median ${median(times.copy).toFixed(2)} s)`)
console.log(`csv-parse → unnest : ${Math.round(rate(times.loader)).toLocaleString()} rows/s (median ${median(times.loader).toFixed(2)} s)`)
console.log(`ratio tessera/COPY : ${(rate(times.tessera) / rate(times.copy)).toFixed(3)} (target >= 0.5)`)
console.log(`ratio tessera/loader: ${(rate(times.tessera) / rate(times.loader)).toFixed(3)}`)
console.log(`CPU time, medians: tessera ${median(cpu.tessera).toFixed(2)} s, COPY ${median(cpu.copy).toFixed(2)} s, loader ${median(cpu.loader).toFixed(2)} s; ratio COPY/tessera by CPU: ${(median(cpu.copy) / median(cpu.tessera)).toFixed(3)}`)
if (stepMs.length > 0) {
  const sorted = [...stepMs].sort((a, b) => a - b)
  console.log(`tessera store busy per batch (${batchSize} rows): median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, p90 ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`)
}
console.log(`tessera peak RSS growth: median +${mb(median(rss))} MB, max +${mb(Math.max(...rss))} MB (target <= 300 MB); load ${load()}`)
rmSync(work, { recursive: true, force: true })
