import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { agg, Tessera } from '../../src/index.ts'
import { MAX_VERSION } from '../../src/query/sql.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { udf } from '../../src/compute/udf.ts'

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

/**
 * A 1,000-row table whose next version is taken behind Tessera's back, so that a staged write's final step (its
 * version record) fails after every step has written its rows; `release` gives the version back.
 */
async function finalStepFailing() {
  const db = await memoryDb()
  dbs.push(db)
  const t = await db.createTable('t', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert(rows(0, 1_000))
  const before = await snapshot(db, 't')
  await db.driver.query(`insert into tessera.versions(table_id, version, kind, md) select id, version + 1, 'insert', md from tessera.tables where id = $1`, [t.id])
  const release = () => db.driver.query(`delete from tessera.versions where table_id = $1 and version = $2`, [t.id, before.version + 1])
  return { db, t, before, release }
}

test('a write that fails in its final step leaves the table exactly as before (rows, version, physical rows)', async () => {
  const { db, t, before, release } = await finalStepFailing()
  const err = await t.insert(rows(1_000, 20_000)).then(() => undefined, (e: unknown) => e as Error)
  expect(err).toBeInstanceOf(Error)
  await release()
  expect(await snapshot(db, 't')).toEqual(before)
  expect((await db.check()).problems).toEqual([])
  // The table takes the same write afterwards.
  expect((await t.insert(rows(1_000, 20_000))).numInserted).toBe(20_000)
  expect(await t.count()).toBe(21_000)
})

test('when undoing a failed staged write fails too, the next write of the table removes its rows first', async () => {
  // The final step fails, and so does the undo of the staged rows: the data table refuses deletes for now. Those rows
  // sit under the version the next commit takes.
  const { db, t, before, release } = await finalStepFailing()
  await db.driver.query(`create function refuse_delete() returns trigger language plpgsql as $$ begin raise exception 'deletes refused for the test'; end $$`)
  await db.driver.query(`create trigger refuse_delete before delete on tessera_data.t${t.id} for each statement execute function refuse_delete()`)
  expect(await t.insert(rows(1_000, 20_000)).then(() => undefined, (e: unknown) => e)).toBeInstanceOf(Error)
  await release()
  // While the undo still fails, the table takes no write, and says why.
  const refused = await t.insert({ id: 99_999, text: 'one more' }).then(() => undefined, (e: { code?: string; message?: string }) => e)
  expect(refused).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/'t' still holds rows of a failed write at version \d+ .*deletes refused for the test/) })
  expect(await t.count()).toBe(1_000)
  await db.driver.query(`drop trigger refuse_delete on tessera_data.t${t.id}`)
  // Now the next write removes the failed write's rows before it commits under that same version.
  expect((await t.insert({ id: 99_999, text: 'one more' })).numInserted).toBe(1)
  expect(await t.count()).toBe(1_001)
  expect(await snapshot(db, 't')).toEqual({ ...before, version: before.version + 1, count: 1_001, physical: before.physical + 1, history: before.history + 1 })
  expect((await db.check()).problems).toEqual([])
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
      expect(ids.reduce((a, b) => Math.max(a, b), -1)).toBe(count - 1) // not Math.max(...ids): past ~100k arguments the spread overflows the stack
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

// Updates, deletes, upserts, recomputes and reverts are staged too: the rows they end keep being current for readers
// until the final step (src/query/sql.ts visibleAt, two arms), the rows they add stay unseen.

async function changedTable(db: Tessera, n: number) {
  const t = await db.createTable('s', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert(rows(0, n))
  await t.addComputedColumn('loud', t.c.text.upper())
  return t
}

test('readers never see a staged update, delete or revert half done', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await changedTable(db, 20_000)
  const observe = async <T>(write: Promise<T>, probe: () => Promise<string>): Promise<Set<string>> => {
    const seen = new Set<string>()
    let done = false
    const w = write.finally(() => (done = true))
    // A probe of the update reads all 20k rows, and reads go first: probing back to back left the write only its
    // aged turns, and the test ran past its timeout on a loaded machine. Every ~15 ms still probes each step.
    while (!done) {
      seen.add(await probe())
      await Bun.sleep(15)
    }
    await w
    seen.add(await probe())
    return seen
  }
  // Row versions written or ended under a version the catalog has not committed: proof the write really was staged.
  let uncommitted = 0
  const updated = async () => {
    const r = await db.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id} where _v_min > $1 or (_v_max > $1 and _v_max <> ${MAX_VERSION})`, [t.version])
    uncommitted = Math.max(uncommitted, r.rows[0]!.n)
    // One statement (one snapshot): separate counts could straddle the commit.
    const counts = new Map<string, number>()
    for (const r of (await t.select('text', 'loud').collect()).rows) {
      const key = `${r.text === 'new'}/${r.loud === 'NEW'}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return [...counts].map(([k, n]) => `${k}:${n}`).sort().join(',')
  }
  const byUpdate = await observe(t.update({ text: 'new' }, { where: t.c.id.lt(15_000) }), updated)
  expect(uncommitted).toBeGreaterThan(0)
  const [before, after] = ['false/false:20000', 'false/false:5000,true/true:15000']
  expect([...byUpdate].filter((s) => s !== before && s !== after)).toEqual([])
  expect(byUpdate.has(after)).toBe(true)
  const byDelete = await observe(t.delete({ where: t.c.id.ge(5_000) }), () => t.count().then(String))
  expect([...byDelete].filter((s) => s !== '20000' && s !== '5000')).toEqual([])
  const byRevert = await observe(t.revert(), () => t.count().then(String))
  expect([...byRevert].filter((s) => s !== '20000' && s !== '5000')).toEqual([])
  expect(await t.count()).toBe(20_000)
  expect(await updated()).toBe(after)
  expect((await db.check()).problems).toEqual([])
}, 300_000)

test('an update, a delete and a recompute failing in their final step leave the table exactly as before', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await changedTable(db, 20_000)
  const before = await snapshot(db, 's')
  const content = async () => (await t.select('id', 'text', 'loud').orderBy(t.c.id).collect()).rows
  const rowsBefore = await content()
  const writes: (() => Promise<unknown>)[] = [
    () => t.update({ text: 'x' }),
    () => t.delete({ where: t.c.id.gt(10) }),
    () => t.recomputeColumns('loud'),
    () => t.upsert(rows(0, 20_000).map((r) => ({ ...r, text: 'y' }))),
  ]
  for (const write of writes) {
    await db.driver.query(`insert into tessera.versions(table_id, version, kind, md) select id, version + 1, 'update', md from tessera.tables where id = $1`, [t.id])
    expect(await write().then(() => undefined, (e: unknown) => e)).toBeInstanceOf(Error)
    await db.driver.query(`delete from tessera.versions where table_id = $1 and version = $2`, [t.id, before.version + 1])
    expect(await snapshot(db, 's')).toEqual(before)
    expect(await content()).toEqual(rowsBefore)
  }
  expect((await db.check()).problems).toEqual([])
  expect((await t.update({ text: 'x' })).numUpdated).toBe(20_000)
})

const CHANGER = `
import { Tessera } from ${JSON.stringify(join(import.meta.dir, '../../src/index.ts'))}
const db = await Tessera.open({ home: process.argv[2] })
const t = await db.createTable('w', { id: 'int', text: 'string' }, { primaryKey: 'id', ifExists: 'ignore' })
if ((await t.count()) === 0) await t.insert(Array.from({ length: 30000 }, (_, i) => ({ id: i, text: 'start' })))
for (let round = 0; ; round++) {
  await t.update({ text: 'u' + round })
  console.log('ack update u' + round)
  await t.delete({ where: t.c.id.ge(20000) })
  await t.revert()
  console.log('ack revert')
}
`

test('kill -9 inside staged updates, deletes and reverts, 6 times: every row has one committed value, check is clean', async () => {
  const home = join(tempDir(), 'data')
  const script = join(tempDir(), 'changer.ts')
  await Bun.write(script, CHANGER)
  let repairedRounds = 0
  for (let round = 0; round < 6; round++) {
    const child = Bun.spawn([process.execPath, script, home], { stdout: 'pipe', stderr: 'pipe' })
    const reader = (child.stdout as ReadableStream<Uint8Array>).getReader()
    let out = ''
    while (!/ack update/.test(out)) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`changer exited: ${out} ${await new Response(child.stderr).text()}`)
      out += new TextDecoder().decode(value)
    }
    await Bun.sleep(100 + Math.random() * 1500)
    child.kill(9)
    await child.exited
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      out += new TextDecoder().decode(value)
    }
    const acked = [...out.matchAll(/ack update (u\d+)/g)].map((m) => m[1]!)
    const db = await Tessera.open({ home })
    try {
      const t = await db.getTable('w')
      const texts = (await t.groupBy(t.c.text).select({ text: t.c.text, n: agg.count() }).collect()).rows
      // A delete of a third of the rows happens between an update and its revert: either all 30,000 rows are there
      // (with one value: an update is all or nothing), or the delete committed and the revert did not yet.
      expect(texts.length).toBe(1)
      expect([30_000, 20_000]).toContain(texts[0]!.n as number)
      if (texts[0]!.n === 20_000) await t.revert()
      expect(await t.count()).toBe(30_000)
      // The last acknowledged update, or one that committed just before the kill.
      const last = acked.at(-1)!
      expect([last, `u${Number(last.slice(1)) + 1}`]).toContain(texts[0]!.text as string)
      const check = await db.check()
      expect(check.problems).toEqual([])
      if (check.repaired.length > 0) repairedRounds++
    } finally {
      await db.close()
    }
  }
  expect(repairedRounds).toBeGreaterThan(0)
}, 300_000)

test('upsert and batchUpdate compute TypeScript cascades before writing: a UDF that queries this database does not wait for itself', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const other = await db.createTable('o', { n: 'int' })
  await other.insert([{ n: 1 }, { n: 2 }])
  // Asks the store while the cascade runs: inside the write's transaction this would wait for that transaction.
  const tagged = udf({ name: 'test_tag_with_count', returns: 'string', params: ['string'], fn: async (s: string) => `${s}:${await other.count()}` })
  const t = await db.createTable('k', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert(rows(0, 1_000))
  await t.addComputedColumn('tag', tagged(t.c.text))
  const status = await t.upsert([...rows(0, 600).map((r) => ({ ...r, text: `new ${r.id}` })), ...rows(1_000, 300)])
  expect([status.numUpdated, status.numInserted]).toEqual([600, 300])
  expect(await t.where(t.c.tag.eq(t.c.text.concat(':2'))).count()).toBe(1_300)
  await t.batchUpdate(rows(0, 250).map((r) => ({ id: r.id, text: 'again' })))
  expect(await t.where(t.c.tag.eq('again:2')).count()).toBe(250)
  // cascade: false leaves the computed column as it was.
  await t.batchUpdate([{ id: 999, text: 'quiet' }], { cascade: false })
  expect((await t.where(t.c.id.eq(999)).select('tag').collect()).rows).toEqual([{ tag: 'row 999:2' }])
})

test('a view follows a big delete of its base in steps, and its readers see the old rows or the new ones, never half', async () => {
  const db = await memoryDb()
  dbs.push(db)
  const t = await changedTable(db, 20_000)
  const v = await db.createView('low', t.where(t.c.id.lt(15_000)))
  expect(await v.count()).toBe(15_000)
  const seen = new Set<number>()
  let done = false
  const del = t.delete({ where: t.c.id.ge(1_000) }).finally(() => (done = true))
  while (!done) {
    seen.add(await v.count())
    await Bun.sleep(3)
  }
  await del
  seen.add(await v.count())
  expect([...seen].filter((n) => n !== 15_000 && n !== 1_000)).toEqual([])
  expect(await v.count()).toBe(1_000)
  expect((await db.check()).problems).toEqual([])
})
