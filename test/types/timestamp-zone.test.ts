import { expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/db.ts'

// A timestamp text without a zone was read in the machine's time zone (Date.parse): with TZ=America/New_York,
// '2024-01-15 10:00:00' stored 15:00Z while '2024-01-15' in the same column was midnight UTC, so one file imported on
// two machines held different instants. Zone-less text is UTC now, whatever TZ is: checked in child processes, the
// time zone being fixed for a process when it starts.

const TEXTS = ['2024-01-15 10:00:00', '2024-01-15T10:00:00', '2024-01-15', '2024-01-15T10:00:00Z', '2024-07-01 12:30', '2024-01-15 10:00:00+02:00',
  'Jan 15 2024 10:00', '01/15/2024 10:00', '0050-06-15 12:00:00', '2024-03-10 02:30:00']
const EXPECTED = ['2024-01-15T10:00:00.000Z', '2024-01-15T10:00:00.000Z', '2024-01-15T00:00:00.000Z', '2024-01-15T10:00:00.000Z', '2024-07-01T12:30:00.000Z',
  '2024-01-15T08:00:00.000Z', '2024-01-15T10:00:00.000Z', '2024-01-15T10:00:00.000Z', '0050-06-15T12:00:00.000Z', '2024-03-10T02:30:00.000Z']

const root = join(import.meta.dir, '../..')

function child(tz: string, csv: string): { parsed: string[]; imported: string[]; inserted: string[] } {
  const script = `
    import { timestampTextMs } from '${root}/src/types/index.ts'
    import { importFile } from '${root}/src/index.ts'
    import { memoryDb } from '${root}/test/support/db.ts'
    const parsed = ${JSON.stringify(TEXTS)}.map((s) => new Date(timestampTextMs(s)).toISOString())
    const db = await memoryDb()
    await db.createDir('a')
    await importFile(db, 'a/t', ${JSON.stringify(csv)}, { schema: { id: 'int', ts: 'timestamp' } })
    const t = await db.getTable('a/t')
    const imported = (await t.orderBy(t.c.id).collect()).toObjects().map((r) => r.ts.toISOString())
    const u = await db.createTable('a/u', { id: 'int', ts: 'timestamp' })
    await u.insert(${JSON.stringify(TEXTS)}.map((ts, id) => ({ id, ts })))
    const inserted = (await u.orderBy(u.c.id).collect()).toObjects().map((r) => r.ts.toISOString())
    await db.close()
    console.log(JSON.stringify({ parsed, imported, inserted }))`
  const r = Bun.spawnSync([process.execPath, '-e', script], { env: { ...process.env, TZ: tz }, cwd: root, stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`child (TZ=${tz}) failed: ${r.stderr.toString()}`)
  return JSON.parse(r.stdout.toString().trim().split('\n').at(-1)!)
}

test('zone-less timestamp text is UTC whatever the machine time zone, parsed, imported and inserted', () => {
  const csv = join(tempDir('ts-zone'), 'tz.csv')
  writeFileSync(csv, `id,ts\n${TEXTS.map((s, i) => `${i},${s}`).join('\n')}\n`)
  for (const tz of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
    const { parsed, imported, inserted } = child(tz, csv)
    expect({ tz, parsed }).toEqual({ tz, parsed: EXPECTED })
    expect({ tz, imported }).toEqual({ tz, imported: EXPECTED })
    expect({ tz, inserted }).toEqual({ tz, inserted: EXPECTED })
  }
}, 120_000)
