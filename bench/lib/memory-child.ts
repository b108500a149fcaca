import { PGlite } from '@electric-sql/pglite'
import { readFileSync } from 'node:fs'
import { Tessera } from '../../src/index.ts'
import { SCALAR_SCHEMA, scalarRows } from './data.ts'
import { createRawTable, rawInsert } from './raw.ts'

// One side of the memory case in its own process, so its peak RSS is its own:
//   bun bench/lib/memory-child.ts tessera|raw <rows> <data dir (already initialised)>
// Prints one JSON line: { rssBeforeMB, peakRssMB }.

const [side, nArg, dir] = process.argv.slice(2)
const n = Number(nArg)
const rows = scalarRows(n)
const CHUNK = 100_000
if (side === 'tessera') {
  const db = await Tessera.open({ home: dir! })
  const t = await db.createTable('data', { ...SCALAR_SCHEMA }, { primaryKey: 'id' })
  const before = process.memoryUsage().rss
  for (let s = 0; s < n; s += CHUNK) await t.insert(rows.slice(s, s + CHUNK))
  await db.close()
  report(before)
} else {
  const pg = await PGlite.create({ dataDir: dir! })
  await createRawTable(pg, 'data')
  const before = process.memoryUsage().rss
  for (let s = 0; s < n; s += CHUNK) await rawInsert(pg, 'data', rows.slice(s, s + CHUNK), 'unnest')
  await pg.close()
  report(before)
}

function report(before: number): void {
  // The kernel's high-water mark where there is one (Linux); else maxRSS, in kilobytes.
  let peakKB = process.resourceUsage().maxRSS
  try {
    peakKB = Number(/VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? peakKB)
  } catch { /* not Linux */ }
  console.log(JSON.stringify({ rssBeforeMB: before / 2 ** 20, peakRssMB: peakKB / 1024 }))
}
