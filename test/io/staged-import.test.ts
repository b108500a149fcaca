import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Table, TesseraError } from '../../src/index.ts'
import { embedders, importFile, Tessera } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Imports stage their rows (COPY into a temporary table) and commit them as ONE table version through the commit
// unit (src/catalog/data-table/staging.ts): nothing is visible before the final step, a failure anywhere leaves nothing, and
// every per-row error still names its input line, also when only the store refuses the value.

let db: Tessera
const dir = tempDir('tessera-io-staged-')
const csv = (name: string, header: string, lines: string[]) => {
  const p = join(dir, name)
  writeFileSync(p, `${header}\n${lines.join('\n')}\n`)
  return p
}
const people = (from: number, n: number) => Array.from({ length: n }, (_, k) => `${from + k},name ${from + k}`)

/** What the import failed with (test/support/settle.ts; fails when it succeeded). */
const failure = async (p: Promise<unknown>): Promise<TesseraError> => (await rejection(p)) as TesseraError

async function state(t: Table) {
  const physical = await db.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id}`)
  return { version: t.version, count: await t.count(), physical: physical.rows[0]!.n, history: (await t.history()).length }
}

async function stagingTables(): Promise<number> {
  const r = await db.driver.query<{ n: number }>(`select count(*)::int as n from pg_class where relname like 'import\\_%' and relkind = 'r'`)
  return r.rows[0]!.n
}

beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

test('a 30k-row CSV becomes exactly one version, rows in file order', async () => {
  const p = csv('one.csv', 'id,name', people(0, 30_000))
  const r = await importFile(db, 'one', p, { batchSize: 4000, primaryKey: 'id' })
  expect(r.rowsInserted).toBe(30_000)
  expect(r.versions).toEqual([1])
  const t = await db.getTable('one')
  expect((await t.history()).map((h) => [h.version, h.kind, h.inserted])).toEqual([[1, 'insert', 30_000], [0, 'create', 0]])
  expect((await t.head(2)).rows).toEqual([{ id: 0, name: 'name 0' }, { id: 1, name: 'name 1' }])
  expect((await t.tail(1)).rows).toEqual([{ id: 29_999, name: 'name 29999' }])
  expect(await stagingTables()).toBe(0)
  // Into the existing table: one more version.
  const r2 = await importFile(db, 'one', csv('more.csv', 'id,name', people(30_000, 10)))
  expect(r2.versions).toEqual([2])
  expect(await t.count()).toBe(30_010)
})

test('on PGlite batches go straight into the data table: no staging table, _rowid in file order, the sequence moved past them', async () => {
  const t = await db.createTable('direct', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await t.insert({ id: -1, name: 'before' })
  let staging = 0
  const r = await importFile(db, 'direct', csv('direct.csv', 'id,name', people(0, 7000)), { batchSize: 2500, onProgress: async () => void (staging += await stagingTables()) })
  expect([r.rowsInserted, r.versions]).toEqual([7000, [2]])
  expect(staging).toBe(0)
  await t.insert({ id: 99_999, name: 'after' })
  const ids = await db.driver.query<{ id: number; rowid: number }>(`select c${t.md.columns.find((c) => c.name === 'id')!.id}::float8 as id, _rowid::float8 as rowid from tessera_data.t${t.id} order by _rowid`)
  const order = ids.rows.map((x) => x.id)
  expect(order).toEqual([-1, ...Array.from({ length: 7000 }, (_, i) => i), 99_999])
  expect(new Set(ids.rows.map((x) => x.rowid)).size).toBe(7002)
  expect((await db.check()).problems).toEqual([])
})

test('a bad line in the middle: abort names it and leaves nothing; skip imports the rest and reports it', async () => {
  const t = await db.createTable('mid', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await t.insert({ id: -1, name: 'existing' })
  const before = await state(t)
  const lines = people(0, 20_000)
  lines[12_345] = 'not-a-number,x' // input line 12,347 (the header is line 1)
  const p = csv('mid.csv', 'id,name', lines)
  const e = await failure(importFile(db, 'mid', p, { batchSize: 3000 }))
  expect(e.code).toBe('INVALID_ROW')
  expect(e.message).toContain(`${p}, line 12347, column 'id': expected an integer`)
  expect(e.details).toMatchObject({ line: 12347, column: 'id' })
  expect(await state(t)).toEqual(before)
  expect(await stagingTables()).toBe(0)

  const report = join(dir, 'mid-report.jsonl')
  const r = await importFile(db, 'mid', p, { batchSize: 3000, onBadRow: 'skip', reportFile: report })
  expect(r.rowsInserted).toBe(19_999)
  expect(r.rowsSkipped).toBe(1)
  expect(r.versions).toEqual([before.version + 1])
  expect(r.problems).toEqual([{ file: p, line: 12347, column: 'id', error: 'expected an integer, got "not-a-number"' }])
  expect(JSON.parse(readFileSync(report, 'utf8')).line).toBe(12347)
  expect(await t.count()).toBe(20_000)
})

test('a value only the store refuses (a NUL character) is named by its line: COPY says which row failed', async () => {
  const t = await db.createTable('nul', { id: 'int', name: 'string' })
  const lines = people(0, 5000)
  lines[4321] = `4321,bad\u0000name`
  const p = csv('nul.csv', 'id,name', lines)
  const e = await failure(importFile(db, 'nul', p, { batchSize: 2000 }))
  expect(e.message).toContain(`${p}, line 4323`)
  expect(await t.count()).toBe(0)
  expect(t.version).toBe(0)
  const r = await importFile(db, 'nul', p, { batchSize: 2000, onBadRow: 'skip' })
  expect(r.rowsInserted).toBe(4999)
  expect(r.problems.map((x) => x.line)).toEqual([4323])
  expect(r.versions).toEqual([1])
})

test('duplicate keys only the store sees (an existing row, or a later batch): line named, or skipped', async () => {
  const t = await db.createTable('dups', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await t.insert({ id: 7, name: 'existing' })
  const lines = people(100, 12_000)
  lines[9_000] = '7,dup of existing' // line 9002
  lines[11_000] = '150,dup of line 52' // line 11002
  const p = csv('dups.csv', 'id,name', lines)
  const before = await state(t)
  // The first duplicate fails a commit step after earlier steps were written: nothing of them stays.
  const e = await failure(importFile(db, 'dups', p, { batchSize: 5000 }))
  expect(e.code).toBe('CONSTRAINT_VIOLATION')
  expect(e.message).toContain(`${p}, line 9002: duplicate primary key (id)=(7): 'dups' already has a row with this key`)
  expect(await state(t)).toEqual(before)
  const r = await importFile(db, 'dups', p, { batchSize: 5000, onBadRow: 'skip' })
  expect(r.problems.map((x) => [x.line, x.error.includes('earlier row')])).toEqual([[9002, false], [11002, true]])
  expect(r.rowsInserted).toBe(11_998)
  expect(r.versions).toEqual([before.version + 1])
  expect(await t.count()).toBe(11_999)
  expect((await t.where(t.c.id.eq(150)).collect()).rows).toEqual([{ id: 150, name: 'name 150' }])
})

test('a computed column failing in SQL on one row: abort names its line, skip leaves that row out', async () => {
  const t = await db.createTable('ratio', { id: 'int', s: 'string' })
  await t.addComputedColumn('q', t.c.s.astype('int'))
  const lines = Array.from({ length: 3000 }, (_, i) => `${i},${i === 2100 ? 'abc' : i}`) // not a number on line 2102
  const p = join(dir, 'ratio.csv')
  writeFileSync(p, `id,s\n${lines.join('\n')}\n`)
  const e = await failure(importFile(db, 'ratio', p, { batchSize: 1000 }))
  expect(e.message).toContain(`${p}, line 2102: `)
  expect(e.message).toContain('invalid input syntax for type bigint')
  expect(e.details).toMatchObject({ line: 2102 })
  expect([t.version, await t.count()]).toEqual([1, 0])
  const r = await importFile(db, 'ratio', p, { batchSize: 1000, onBadRow: 'skip' })
  expect([r.rowsInserted, r.problems.map((x) => x.line), r.versions]).toEqual([2999, [2102], [2]])
  expect((await t.where(t.c.id.eq(2999)).select('q').collect()).rows).toEqual([{ q: 2999 }])
})

test('a cancelled import leaves nothing, also when it is cancelled at its last moment', async () => {
  const t = await db.createTable('cancel', { id: 'int', name: 'string' })
  const p = csv('cancel.csv', 'id,name', people(0, 9000))
  const ac = new AbortController()
  let batches = 0
  const e = await failure(importFile(db, 'cancel', p, { batchSize: 3000, signal: ac.signal, onProgress: () => void (++batches === 3 && ac.abort()) }))
  expect(e.message).toContain('nothing was imported')
  expect(await state(t)).toEqual({ version: 0, count: 0, physical: 0, history: 1 })
  expect(await stagingTables()).toBe(0)
})

test('computed columns and an embedding index are filled for imported rows, as by insert()', async () => {
  const t = await db.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.addComputedColumn('upper', t.c.text.upper())
  await t.addEmbeddingIndex('text', { embed: embedders.lexical(), metric: 'cosine', name: 'lex' })
  const words = ['red apple', 'green pear', 'blue sky', 'yellow banana']
  const p = csv('docs.csv', 'id,text', Array.from({ length: 400 }, (_, i) => `${i},${words[i % 4]} ${i}`))
  const r = await importFile(db, 'docs', p, { batchSize: 150 })
  expect(r.rowsInserted).toBe(400)
  expect(r.versions).toEqual([3])
  expect((await t.where(t.c.id.eq(5)).select('upper').collect()).rows).toEqual([{ upper: 'GREEN PEAR 5' }])
  expect(await t.where(t.c.upper.isNull()).count()).toBe(0)
  // Every row has its vector (the index's hidden column) and search finds the imported rows.
  const hidden = t.md.columns.find((c) => c.hidden)!
  const missing = await db.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id} where c${hidden.id} is null`)
  expect(missing.rows[0]!.n).toBe(0)
  const sim = t.c.text.similarity({ text: 'banana' })
  const top = (await t.orderBy(sim, 'desc').limit(3).select({ text: t.c.text }).collect()).column('text') as string[]
  expect(top.every((x) => x.startsWith('yellow banana'))).toBe(true)
  const h = (await t.history())[0]!
  expect([h.kind, h.inserted]).toEqual(['insert', 400])
})

const IMPORTER = `
import { Tessera, importFile } from '${join(import.meta.dir, '../../src/index.ts')}'
const db = await Tessera.open({ home: process.argv[2] })
const dieAt = Number(process.argv[4])
// Dies by SIGKILL from inside the progress callback: at a known point of the import, whatever the machine's speed (a
// kill sent from the test after reading this line raced the import's end: the final step is short).
await importFile(db, 'k', process.argv[3], { batchSize: 2000, onProgress: (p) => {
  console.log('staged', p.rowsInserted)
  if (p.rowsInserted >= dieAt) process.kill(process.pid, 'SIGKILL')
} })
console.log('done')
`

test('an import killed (kill -9) while staging or committing leaves nothing visible, and check is clean', async () => {
  const home = join(tempDir(), 'data')
  const setup = await Tessera.open({ home })
  await setup.createTable('k', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await setup.close()
  const p = csv('kill.csv', 'id,name', people(0, 60_000))
  const script = join(tempDir(), 'importer.ts')
  writeFileSync(script, IMPORTER)
  for (const dieAt of [4000, 60_000]) {
    // The second round dies with every row written under the new version, before the final step makes it visible.
    const child = Bun.spawn([process.execPath, script, home, p, String(dieAt)], { stdout: 'pipe', stderr: 'pipe' })
    const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited])
    if (child.signalCode !== 'SIGKILL') throw new Error(`importer was not killed (exit ${code}): ${out} ${await new Response(child.stderr).text()}`)
    expect(out).toContain(`staged ${dieAt}`)
    const again = await Tessera.open({ home })
    try {
      const t = await again.getTable('k')
      expect(out).not.toContain('done')
      expect([t.version, await t.count()]).toEqual([0, 0])
      const check = await again.check()
      expect(check.problems).toEqual([])
      const physical = await again.driver.query<{ n: number }>(`select count(*)::int as n from tessera_data.t${t.id}`)
      expect(physical.rows[0]!.n).toBe(0)
    } finally {
      await again.close()
    }
  }
}, 120_000)
