// Import throughput: Tessera's importFile of a generated CSV vs raw PGlite `COPY ... FROM '/dev/blob'` of the same
// file into a plain table with the same column types, in the same process and run, each on its own data dir on disk.
// Prints rows/s for both, the ratio, and Tessera's peak RSS during its import (the file is streamed; COPY is
// handed the whole file as a Blob, which is how PGlite takes COPY input).
//
//   npx bun bench/import.ts [rows=1000000] [batchSize=10000]

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Tessera } from '../src/index.ts'
import { importFile } from '../src/io/index.ts'

const rows = Number(process.argv[2] ?? 1_000_000)
const batchSize = Number(process.argv[3] ?? 10_000)
const work = mkdtempSync(join(tmpdir(), 'tessera-bench-import-'))
const csv = join(work, 'data.csv')

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
generate()
console.log(`${rows.toLocaleString()} rows, ${mb(statSync(csv).size)} MB CSV, batch ${batchSize}`)

// --- Tessera
const db = await Tessera.open({ home: join(work, 'tessera') })
const rssBefore = process.memoryUsage().rss
let peak = rssBefore
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
let t0 = performance.now()
const result = await importFile(db, 'bench', csv, {
  batchSize,
  schema: { id: 'int', name: 'string', score: 'float', flag: 'bool', ts: 'timestamp' },
  onProgress: () => void (peak = Math.max(peak, process.memoryUsage().rss)),
})
const tesseraS = (performance.now() - t0) / 1000
clearInterval(sampler)
if (result.rowsInserted !== rows) throw new Error(`imported ${result.rowsInserted} rows, expected ${rows}`)
await db.close()

// --- raw PGlite COPY of the same file
const pg = await PGlite.create({ dataDir: join(work, 'raw') })
await pg.exec('create table t (id bigint, name text, score double precision, flag boolean, ts timestamptz)')
t0 = performance.now()
await pg.query(`copy t (id, name, score, flag, ts) from '/dev/blob' with (format csv, header true)`, [], { blob: new Blob([readFileSync(csv)]) })
const copyS = (performance.now() - t0) / 1000
const copied = (await pg.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n
if (copied !== rows) throw new Error(`COPY loaded ${copied} rows, expected ${rows}`)
await pg.close()

const tesseraRate = rows / tesseraS
const copyRate = rows / copyS
console.log(`tessera importFile : ${Math.round(tesseraRate).toLocaleString()} rows/s (${tesseraS.toFixed(1)} s, ${result.versions.length} versions)`)
console.log(`raw PGlite COPY    : ${Math.round(copyRate).toLocaleString()} rows/s (${copyS.toFixed(1)} s)`)
console.log(`ratio tessera/COPY : ${(tesseraRate / copyRate).toFixed(3)}`)
console.log(`tessera peak RSS   : ${mb(peak)} MB (${mb(rssBefore)} MB before the import, +${mb(peak - rssBefore)} MB)`)
rmSync(work, { recursive: true, force: true })
