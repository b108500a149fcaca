import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import type { BenchCase } from '../lib/harness.ts'
import { dirBytes } from '../lib/env.ts'

// Peak RSS and data dir growth for n rows inserted in chunks of 100k, each side in its own process on its own data
// dir (Tessera's rows carry _rowid, _v_min, _v_max and five indexes; the raw table has a primary key only).

const CHILD = join(import.meta.dir, '../lib/memory-child.ts')

function runChild(side: 'tessera' | 'raw', n: number, dir: string): { rssBeforeMB: number; peakRssMB: number } {
  const r = spawnSync(process.execPath, [CHILD, side, String(n), dir], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`memory child (${side}, ${n}) failed: ${r.stderr || r.stdout}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!)
}

export const memoryCase: BenchCase = {
  name: 'memory',
  description: 'peak RSS and data dir growth per 100k rows: library insert vs raw PGlite insert, each in its own process',
  async run(ctx) {
    const n = ctx.size
    const home = await ctx.env.tesseraHome()
    const rawDir = await ctx.env.rawDir()
    const pgdata = join(home, 'pgdata')
    const empty = { tessera: dirBytes(pgdata), raw: dirBytes(rawDir) }
    const t = runChild('tessera', n, home)
    const r = runChild('raw', n, rawDir)
    const per100k = 100_000 / n
    const grown = { tessera: (dirBytes(pgdata) - empty.tessera) / 2 ** 20, raw: (dirBytes(rawDir) - empty.raw) / 2 ** 20 }
    return [
      { case: 'memory', size: n, metric: 'peak RSS', tessera: t.peakRssMB, baseline: r.peakRssMB, unit: 'MB', against: 'raw PGlite process', note: `RSS before insert: ${t.rssBeforeMB.toFixed(0)} vs ${r.rssBeforeMB.toFixed(0)} MB` },
      { case: 'memory', size: n, metric: 'data dir growth per 100k rows', tessera: grown.tessera * per100k, baseline: grown.raw * per100k, unit: 'MB', against: 'raw PGlite table with primary key' },
    ]
  },
}
