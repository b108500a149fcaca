import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { TesseraError } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A stream pins each table at a version. A revert frees that version's number, and the next write takes it again:
// reading "version N" after that would return the new write's rows in the middle of the old version's. Every page
// is now checked against the version the stream started on: a reverted one fails the stream (CONCURRENCY_CONFLICT,
// retryable), before any row of another version is returned.

let db: Tessera

beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

async function tableOf(path: string, rows: number) {
  const t = await db.createTable(path, { id: 'int', tag: 'string' })
  await t.insert(Array.from({ length: rows }, (_, i) => ({ id: i, tag: 'old' })))
  return t
}

async function failureOf(p: Promise<unknown>): Promise<TesseraError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError)
    return e as TesseraError
  }
  throw new Error('expected the stream to fail')
}

test('revert and a new write while a stream reads: the stream fails naming the version, and returned no new row', async () => {
  const t = await tableOf('reverted', 2500)
  const pinned = t.version
  const it = t.query().stream({ batchSize: 1000 })[Symbol.asyncIterator]()
  const seen: { id: number; tag: string }[] = []
  for (let i = 0; i < 1000; i++) seen.push((await it.next()).value as { id: number; tag: string })
  await t.revert()
  await t.insert(Array.from({ length: 3000 }, (_, i) => ({ id: 10_000 + i, tag: 'new' })))
  expect(t.version).toBe(pinned)

  const rest = (async () => {
    for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value as { id: number; tag: string })
  })()
  const e = await failureOf(rest)
  expect(e.code).toBe('CONCURRENCY_CONFLICT')
  expect(e.message).toContain(`version ${pinned} of 'reverted' was reverted while a stream read it`)
  expect(e.details).toMatchObject({ path: 'reverted', version: pinned })
  expect(seen.filter((r) => r.tag !== 'old')).toEqual([])
  expect(seen).toHaveLength(1000)
})

test('a revert alone (no new write) fails the stream the same way, not with a missing-version error', async () => {
  const t = await tableOf('popped', 1500)
  await t.insert([{ id: -1, tag: 'old' }])
  const it = t.query().stream({ batchSize: 1000 })[Symbol.asyncIterator]()
  await it.next()
  await t.revert()
  const e = await failureOf((async () => { while (!(await it.next()).done); })())
  expect(e.code).toBe('CONCURRENCY_CONFLICT')
})

test('writes that are not reverts leave a stream alone: it returns the version it started at, whole', async () => {
  const t = await tableOf('written', 2500)
  const it = t.query().stream({ batchSize: 1000 })[Symbol.asyncIterator]()
  const ids: number[] = []
  ids.push(((await it.next()).value as { id: number }).id)
  await t.insert([{ id: 99_999, tag: 'new' }])
  await t.where(t.c.id.lt(2000)).update({ tag: 'changed' })
  await t.where(t.c.id.eq(2400)).delete()
  for (let r = await it.next(); !r.done; r = await it.next()) ids.push((r.value as { id: number }).id)
  expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i))
})

test('a join and a time-travel handle are watched per table: reverting the other table fails the stream', async () => {
  const a = await tableOf('left_side', 1200)
  const b = await db.createTable('right_side', { id: 'int', label: 'string' })
  await b.insert(Array.from({ length: 1200 }, (_, i) => ({ id: i, label: `l${i}` })))
  const old = await db.getTable(`left_side:${a.version}`)
  const q = old.join(b, { on: old.c.id.eq(b.c.id) }).select({ id: old.c.id, label: b.c.label })
  const it = q.stream({ batchSize: 500 })[Symbol.asyncIterator]()
  await it.next()
  await b.revert()
  await b.insert([{ id: 0, label: 'other' }])
  const e = await failureOf((async () => { while (!(await it.next()).done); })())
  expect(e.code).toBe('CONCURRENCY_CONFLICT')
  expect(e.message).toContain(`of 'right_side' was reverted`)
})

test('over HTTP: an NDJSON stream ends with an $error line, after only the old version\'s rows', async () => {
  const t = await tableOf('over_http', 3000)
  const app = createApp(db)
  const r = await app.request('/api/v1/query?batchSize=1000', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' }, body: JSON.stringify({ table: 'over_http' }),
  })
  expect(r.status).toBe(200)
  // The first page is read before the answer starts; revert and rewrite before reading the body.
  await t.revert()
  await t.insert(Array.from({ length: 3000 }, (_, i) => ({ id: 50_000 + i, tag: 'new' })))
  const lines = (await r.text()).trim().split('\n').map((l) => JSON.parse(l) as { tag?: string; $error?: { code: string; message: string } })
  const last = lines.at(-1)!
  expect(last.$error?.code).toBe('CONCURRENCY_CONFLICT')
  expect(lines.slice(0, -1).every((l) => l.tag === 'old')).toBe(true)
  expect(lines.length - 1).toBeLessThan(3000)
})

test('views and snapshots stream whole while their base is written (no false alarm); a view whose sync is reverted fails', async () => {
  const base = await tableOf('based', 2500)
  const view = await db.createView('based_view', base, { where: base.c.id.ge(0) })
  const snap = await db.createSnapshot('based_snap', base)
  const read = async (it: AsyncIterator<unknown>, first: unknown[]) => {
    for (let r = await it.next(); !r.done; r = await it.next()) first.push(r.value)
    return first
  }
  const vi = view.query().stream({ batchSize: 1000 })[Symbol.asyncIterator]()
  const si = snap.query().stream({ batchSize: 1000 })[Symbol.asyncIterator]()
  const vr = [(await vi.next()).value]
  const sr = [(await si.next()).value]
  await base.insert([{ id: 7777, tag: 'new' }])
  await base.where(base.c.id.lt(10)).delete()
  expect(await read(vi, vr)).toHaveLength(2500)
  expect(await read(si, sr)).toHaveLength(2500)

  // the view's latest version is the sync of the delete: reverting the base reverts it, and a stream on it fails
  const again = view.query().stream({ batchSize: 1000 })[Symbol.asyncIterator]()
  await again.next()
  await base.revert()
  await base.insert([{ id: 8888, tag: 'new' }])
  const e = await failureOf(read(again, []))
  expect(e.code).toBe('CONCURRENCY_CONFLICT')
  expect(e.message).toContain(`of 'based_view' was reverted`)
})

test('a table dropped while a stream reads it ends the stream with its 404, not a revert', async () => {
  const t = await tableOf('dropped_midway', 2500)
  const it = t.query().stream({ batchSize: 1000 })[Symbol.asyncIterator]()
  await it.next()
  await db.dropTable('dropped_midway')
  const e = await failureOf((async () => { while (!(await it.next()).done); })())
  expect(e.code).toBe('TABLE_NOT_FOUND')
  expect(e.message).not.toContain('reverted')
  expect(e.message).toContain('dropped_midway')
})
