import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { memoryDb } from '../support/db.ts'

// A computed column that calls TypeScript (a UDF, a model, an LLM) is computed once per row: the columns reading it
// read its value (computed before them in the same write, or stored) instead of calling it again, so they agree with
// it and cost nothing more. Its errors carry to them.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

/** A function that answers differently on every call, as a sampled LLM does, and counts its calls. */
function nondeterministic(name: string) {
  const seen = { calls: 0 }
  const fn = udf({ name, returns: 'string', fn: (s: string) => (s === 'bad' ? (() => { throw new Error('the model refused') })() : `${s}#${++seen.calls}`) })
  return { fn, seen }
}

const upper = udf({ name: 'test_reads_upper', returns: 'string', fn: (s: string) => s.toUpperCase() })

describe('computed columns reading a TypeScript-computed column', () => {
  test('insert, update, upsert, recompute and a later column all read the one value', async () => {
    db = await memoryDb()
    const gen = nondeterministic('test_reads_gen')
    const t = await db.createTable('reads', { id: 'int', text: 'string', note: 'string?' }, { primaryKey: 'id' })
    await t.addComputedColumn('a', gen.fn(t.c.text))
    await t.addComputedColumn('b', upper(t.c.a))
    await t.addComputedColumn('c', t.c.a.concat(t.c.note))
    const agree = async () => {
      const rows = (await t.select('id', 'a', 'b', 'c', 'note').orderBy(t.c.id).collect()).rows
      for (const r of rows) {
        expect(r.b).toBe(String(r.a).toUpperCase())
        expect(r.c).toBe(r.note === null ? null : `${r.a}${r.note}`)
      }
      return rows
    }

    gen.seen.calls = 0
    await t.insert([{ id: 1, text: 'x', note: '!' }, { id: 2, text: 'y', note: '?' }])
    expect(gen.seen.calls).toBe(2)
    await agree()

    gen.seen.calls = 0
    await t.update({ text: 'z' }, { where: t.c.id.eq(1) })
    expect(gen.seen.calls).toBe(1)
    // An update of another input of `c` recomputes `c` from the stored `a`, without calling the function.
    await t.update({ note: '…' }, { where: t.c.id.eq(2) })
    expect(gen.seen.calls).toBe(1)
    await t.batchUpdate([{ id: 2, note: '+' }, { id: 1, text: 'w' }])
    expect(gen.seen.calls).toBe(2)
    const rows = await agree()
    expect(rows.map((r) => r.c)).toEqual([`${rows[0]!.a}!`, `${rows[1]!.a}+`])

    gen.seen.calls = 0
    await t.addComputedColumn('d', upper(t.c.a))
    expect(gen.seen.calls).toBe(0)
    expect((await t.select('a', 'd').collect()).rows.every((r) => r.d === String(r.a).toUpperCase())).toBe(true)

    // Recomputing the dependents alone reads the stored value; recomputing `a` carries to them.
    await t.recomputeColumns(['b'])
    expect(gen.seen.calls).toBe(0)
    await t.recomputeColumns(['a'])
    expect(gen.seen.calls).toBe(2)
    await agree()
  })

  test('a failing value carries to its readers as their error, and they are not called for it', async () => {
    db = await memoryDb()
    const gen = nondeterministic('test_reads_gen_err')
    let upperCalls = 0
    const counted = udf({ name: 'test_reads_counted_upper', returns: 'string', fn: (s: string) => (upperCalls++, s.toUpperCase()) })
    const t = await db.createTable('reads_err', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.addComputedColumn('a', gen.fn(t.c.text), { onError: 'ignore' })
    await t.addComputedColumn('b', counted(t.c.a), { onError: 'ignore' })
    await t.insert([{ id: 1, text: 'ok' }, { id: 2, text: 'bad' }], { onError: 'ignore' })
    expect(upperCalls).toBe(1)
    const rows = (await t.select({ id: t.c.id, b: t.c.b, bt: t.c.b.errortype, bm: t.c.b.errormsg }).orderBy(t.c.id).collect()).rows
    expect(rows[0]).toMatchObject({ id: 1, b: 'OK#1', bt: null })
    expect(rows[1]).toMatchObject({ id: 2, b: null, bt: 'Error' })
    expect(String(rows[1]!.bm)).toContain("column 'a' failed: the model refused")

    // Stored errors carry too: a column added later, and an update of another row.
    await t.addComputedColumn('c', counted(t.c.a), { onError: 'ignore' })
    const c = (await t.select({ id: t.c.id, c: t.c.c, cm: t.c.c.errormsg }).orderBy(t.c.id).collect()).rows
    expect(c[0]).toMatchObject({ c: 'OK#1', cm: null })
    expect(String(c[1]!.cm)).toContain("column 'a' failed")

    // A column that reads only its error (.errormsg) sees the error as data, on insert and on a later add.
    await t.addComputedColumn('why', t.c.a.errormsg.concat('!'), { onError: 'ignore' })
    await t.insert([{ id: 3, text: 'bad' }, { id: 4, text: 'fine' }], { onError: 'ignore' })
    const why = (await t.select({ id: t.c.id, why: t.c.why, we: t.c.why.errormsg }).orderBy(t.c.id).collect()).rows
    expect(why.map((r) => [r.id, r.why, r.we])).toEqual([[1, null, null], [2, 'the model refused!', null], [3, 'the model refused!', null], [4, null, null]])

    // With onError 'abort' the write that would store such a value is refused, naming both columns.
    const refused = await t.addComputedColumn('d', counted(t.c.a), { onError: 'abort' }).then(() => undefined, (e: Error) => e)
    expect(refused?.message).toContain("column 'a' failed: the model refused")
  })

  test('a background job computing a column reads the stored value', async () => {
    db = await memoryDb()
    const gen = nondeterministic('test_reads_gen_job')
    const t = await db.createTable('reads_job', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.addComputedColumn('a', gen.fn(t.c.text))
    await t.insert([{ id: 1, text: 'x' }, { id: 2, text: 'y' }, { id: 3, text: 'z' }])
    gen.seen.calls = 0
    const job = await db.jobs.start({ table: t, column: 'b', expr: upper(t.c.a), batchSize: 2 })
    expect((await db.jobs.wait(job.id)).status).toBe('done')
    expect(gen.seen.calls).toBe(0)
    const rows = (await t.select('a', 'b').collect()).rows
    expect(rows.every((r) => r.b === String(r.a).toUpperCase())).toBe(true)
  })
})
