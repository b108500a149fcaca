import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { MAX_VERSION } from '../../src/query/sql.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// Big writes on the embedded store go in short steps under a version readers cannot see until the final step
// (src/catalog/commit.ts). These tests check the all-or-nothing promise around that: a write failing in a step or in
// its final step leaves the table exactly as before, and a process killed at any moment leaves nothing uncommitted
// visible, every acknowledged write present, and `check` clean.

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, text: `row ${from + i}` }))

const dbs: Tessera[] = []
afterAll(async () => {
  for (const d of dbs) await d.close()
})

async function snapshot(db: Tessera, path: string) {
  const t = await db.getTable(path)
  const physical = await db.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id}`)
  return { version: t.version, count: await t.count(), physical: physical.rows[0]!.n, history: (await t.history()).length }
}

test('a write that fails in its final step leaves the table exactly as before (rows, version, physical rows)', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await db.createTable('t', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert(rows(0, 1_000))
  const before = await snapshot(db, 't')
  // Behind Tessera's back, the next version is taken: the final step's version record then fails, after every
  // step has written its rows.
  await db.driver.query(`insert into tessera.versions(table_id, version, kind, md) select id, version + 1, 'insert', md from tessera.tables where id = $1`, [t.id])
  const err = await t.insert(rows(1_000, 20_000)).then(() => undefined, (e: unknown) => e as Error)
  expect(err).toBeInstanceOf(Error)
  await db.driver.query(`delete from tessera.versions where table_id = $1 and version = $2`, [t.id, before.version + 1])
  expect(await snapshot(db, 't')).toEqual(before)
  expect((await db.check()).problems).toEqual([])
  // The table takes the same write afterwards.
  expect((await t.insert(rows(1_000, 20_000))).numInserted).toBe(20_000)
  expect(await t.count()).toBe(21_000)
})

test('a write that fails in a middle step (duplicate key) leaves nothing of its earlier steps', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await db.createTable('t', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert({ id: 15_000, text: 'already here' })
  const before = await snapshot(db, 't')
  const err = await t.insert(rows(0, 20_000)).then(() => undefined, (e: unknown) => e as Error)
  expect(err?.message).toMatch(/duplicate primary key/)
  expect(await snapshot(db, 't')).toEqual(before)
  expect((await db.check()).problems).toEqual([])
})

test('readers never see the rows of a staged write before its final step', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await db.createTable('t', { id: 'int', text: 'string' })
  await t.insert(rows(0, 100))
  const seen = new Set<number>()
  let done = false
  const insert = t.insert(rows(100, 60_000)).finally(() => (done = true))
  while (!done) {
    seen.add(await t.count())
    // Direct SQL sees the steps' rows arrive: they exist, but reads are bounded by the committed version.
    await Bun.sleep(5)
  }
  await insert
  seen.add(await t.count())
  expect([...seen].sort((a, b) => a - b)).toEqual(seen.size === 1 ? [60_100] : [100, 60_100])
  const phys = await db.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id} where _v_max = ${MAX_VERSION}`)
  expect(phys.rows[0]!.n).toBe(60_100)
})

const WRITER = `
import { Tessera } from ${JSON.stringify(join(import.meta.dir, '../../src/index.ts'))}
const db = await Tessera.open({ home: process.argv[2] })
const t = await db.createTable('w', { id: 'int', text: 'string' }, { primaryKey: 'id', ifExists: 'ignore' })
let next = await t.count()
for (;;) {
  const batch = Array.from({ length: 8000 }, (_, i) => ({ id: next + i, text: 'row ' + (next + i) }))
  await t.insert(batch)
  next += batch.length
  console.log('ack ' + next)
}
`

test('kill -9 at random moments of staged writes, 10 times: acknowledged rows stay, nothing uncommitted is visible, check is clean', async () => {
  const home = join(tempDir(), 'data')
  const script = join(tempDir(), 'writer.ts')
  await Bun.write(script, WRITER)
  let acked = 0
  let repairedRounds = 0
  for (let round = 0; round < 10; round++) {
    const child = Bun.spawn([process.execPath, script, home], { stdout: 'pipe', stderr: 'pipe' })
    const reader = (child.stdout as ReadableStream<Uint8Array>).getReader()
    let out = ''
    // Let it acknowledge at least one insert, then kill it somewhere inside a later one.
    while (!/ack \d+/.test(out)) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`writer exited: ${out} ${await new Response(child.stderr).text()}`)
      out += new TextDecoder().decode(value)
    }
    await Bun.sleep(50 + Math.random() * 400)
    child.kill(9)
    await child.exited
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      out += new TextDecoder().decode(value)
    }
    acked = Math.max(acked, ...[...out.matchAll(/ack (\d+)/g)].map((m) => Number(m[1])))
    const db = await Tessera.open({ home })
    try {
      const t = await db.getTable('w')
      const count = await t.count()
      // Every acknowledged row is there; an insert that committed but was not acknowledged yet may be too.
      expect(count === acked || count === acked + 8000).toBe(true)
      acked = count
      const ids = (await t.select('id').collect()).rows.map((r) => r.id as number)
      expect(new Set(ids).size).toBe(count)
      expect(Math.max(...ids)).toBe(count - 1)
      const check = await db.check()
      expect(check.problems).toEqual([])
      if (check.repaired.length > 0) repairedRounds++
      const physical = await db.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id}`)
      expect(physical.rows[0]!.n).toBe(count)
    } finally {
      await db.close()
    }
  }
  // The writer never pauses between inserts, so kills land inside staged writes: opening must have removed leftovers.
  expect(repairedRounds).toBeGreaterThan(0)
}, 300_000)

test('a computed-column backfill that fails in a later step leaves no data column behind; the column can be added after', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await db.createTable('t', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: 20_000 }, (_, i) => ({ id: i, text: i === 15_000 ? 'oops' : String(i) })))
  const dataColumns = async () => (await db.driver.query<{ n: string }>(`select column_name as n from information_schema.columns where table_schema = 'tessera_data' and table_name = $1 order by 1`, [`t${t.id}`])).rows.map((r) => r.n)
  const before = { columns: await dataColumns(), version: t.version }
  const err = await t.addComputedColumn('n', t.c.text.astype('int')).then(() => undefined, (e: unknown) => e as Error)
  expect(err?.message).toMatch(/oops|invalid input/)
  expect({ columns: await dataColumns(), version: t.version }).toEqual(before)
  expect(t.schema()).toEqual({ id: 'int', text: 'string' })
  await t.update({ text: '15000' }, { where: t.c.id.eq(15_000) })
  expect((await t.addComputedColumn('n', t.c.text.astype('int'))).numComputedValues).toBe(20_000)
  expect(await t.where(t.c.n.eq(t.c.id)).count()).toBe(20_000)
})

test('a data column left by a backfill killed before its final step is dropped at open and reported', async () => {
  const home = join(tempDir(), 'data')
  let db = await Tessera.open({ home })
  const t = await db.createTable('t', { id: 'int' })
  await t.insert([{ id: 1 }])
  // What a killed backfill leaves: a data column with the id the next column would get, in no version's schema.
  await db.driver.exec(`alter table tessera_data.t${t.id} add column c${t.md.nextColumnId} integer`)
  await db.close()
  db = await Tessera.open({ home })
  try {
    const check = await db.check()
    expect(check.problems).toEqual([])
    expect(check.repaired).toEqual([{ table: 't', rows: 0, columns: [`c${t.md.nextColumnId}`] }])
    const again = await db.getTable('t')
    expect((await again.addComputedColumn('twice', again.c.id.mul(2))).numComputedValues).toBe(1)
    expect((await again.select('twice').collect()).rows).toEqual([{ twice: 2 }])
  } finally {
    await db.close()
  }
})
