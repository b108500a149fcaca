import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PGliteDriver, READS_IN_FLIGHT, translateStoreError } from '../../src/store/index.ts'
import { TesseraError } from '../../src/errors.ts'
import { RuntimeWorker } from '../../src/store/pglite/driver.ts'
import { rmSync } from 'node:fs'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// The hop between the serving thread and the store worker (src/store/pglite/driver.ts, worker.ts): every call gets
// its own answer however many are in flight, errors keep their Postgres fields across the thread, big payloads cross
// whole, and a closed store answers every call (none waits forever).

describe('the store worker hop', () => {
  let driver: PGliteDriver
  beforeAll(async () => {
    driver = await PGliteDriver.open({ loadDataDir: await templateBlob() })
    await driver.exec(`create table hop (id int primary key, v text);
      insert into hop select g, 'v' || g from generate_series(1, 200) g`)
  })
  afterAll(() => driver.close())

  test('many calls at once, prepared and not, failing and not: each caller gets its own answer', async () => {
    const calls = Array.from({ length: READS_IN_FLIGHT * 8 }, (_, i) => {
      const id = i + 1
      if (i % 5 === 4) return rejection(driver.query('select v from hop where id = $1::int', [`bad${id}`], { prepare: i % 2 === 0 }))
      return driver.query<{ v: string }>('select v from hop where id = $1', [id], { prepare: i % 2 === 0 })
    })
    const answers = await Promise.all(calls)
    answers.forEach((a, i) => {
      if (i % 5 === 4) {
        const e = a as Error & { code?: string }
        expect(e.message).toContain(`bad${i + 1}`)
        expect(e.code).toBe('22P02')
      } else {
        expect((a as { rows: { v: string }[] }).rows).toEqual([{ v: `v${i + 1}` }])
      }
    })
    // The store is still usable after the failed ones.
    expect((await driver.query('select count(*)::int as n from hop')).rows).toEqual([{ n: 200 }])
  })

  test("a Postgres error crosses with the fields the store's error translation reads", async () => {
    const e = (await rejection(driver.query('insert into hop (id, v) values ($1, $2)', [1, 'again']))) as Error & { code?: string; detail?: string }
    expect(e.code).toBe('23505')
    expect(e.detail).toContain('(id)=(1)')
    const translated = translateStoreError(e, { table: 'hop' })
    expect(translated).toBeInstanceOf(TesseraError)
    expect((translated as TesseraError).message).toContain("duplicate primary key (id)=(1) in 'hop'")
  })

  test('big results and big parameters cross whole', async () => {
    const big = 'x'.repeat(4 << 20) // 4 MiB, one parameter
    expect((await driver.query<{ n: number }>('select length($1::text)::int as n', [big], { prepare: true })).rows).toEqual([{ n: big.length }])
    const rows = (await driver.query<{ g: number; s: string }>(`select g, repeat('y', 100) as s from generate_series(1, 50000) g`)).rows
    expect(rows.length).toBe(50_000)
    expect(rows[49_999]).toEqual({ g: 50_000, s: 'y'.repeat(100) })
  })

  test('on a data dir, new WAL segments are not zero-filled (a commit that began one wrote 16 MB through the emulated file system)', async () => {
    const dir = tempDir()
    const onDisk = await PGliteDriver.open({ dataDir: dir, loadDataDir: await templateBlob() })
    try {
      expect((await onDisk.query<{ wal_init_zero: string }>('show wal_init_zero')).rows).toEqual([{ wal_init_zero: 'off' }])
    } finally {
      await onDisk.close()
      rmSync(dir, { recursive: true, force: true })
    }
    // In memory, zero-filled segments made commits cheaper on average (src/store/pglite/direct.ts).
    expect((await driver.query<{ wal_init_zero: string }>('show wal_init_zero')).rows).toEqual([{ wal_init_zero: 'on' }])
  })

  test("the store's buffer pool is 32 MB, not Postgres's 128 MB (all of it stays resident in PGlite's memory)", async () => {
    expect((await driver.query<{ shared_buffers: string }>('show shared_buffers')).rows).toEqual([{ shared_buffers: '32MB' }])
  })

  test('a transaction holds the store: reads sent meanwhile see only what it committed, after it', async () => {
    let inside!: () => void
    const started = new Promise<void>((r) => (inside = r))
    const tx = driver.transaction(async (q) => {
      await q.exec(`insert into hop values (1001, 'tx')`)
      inside()
      await new Promise((r) => setTimeout(r, 30))
      await q.exec(`insert into hop values (1002, 'tx')`)
    })
    await started
    const read = driver.query<{ n: number }>('select count(*)::int as n from hop where id > 1000', [], { prepare: true })
    await tx
    expect((await read).rows).toEqual([{ n: 2 }])
  })

  test("a transaction's first statement goes out behind BEGIN without waiting for its answer; a failure still undoes it all", async () => {
    // Every message to the worker and every answer, in the order this thread saw them.
    const seen: string[] = []
    // The driver's Worker class, not the global: in a full test run onnxruntime-web's glue has replaced
    // globalThis.Worker with node:worker_threads' by now (src/store/pglite/driver.ts, RuntimeWorker).
    const proto = (RuntimeWorker as unknown as { prototype: { postMessage: (m: unknown, t?: unknown) => void } }).prototype
    const post = proto.postMessage
    const listening = new WeakSet<object>()
    proto.postMessage = function (this: EventTarget, m: unknown, t?: unknown) {
      const msg = m as { id: number; op: string; sql?: string }
      if (!listening.has(this)) {
        listening.add(this)
        this.addEventListener('message', (ev) => seen.push(`answer ${(ev as MessageEvent<{ id: number }>).data.id}`))
      }
      seen.push(`send ${msg.id} ${msg.sql ?? msg.op}`)
      return post.call(this, m, t)
    }
    try {
      await driver.transaction((q) => q.exec(`insert into hop values (1003, 'tx')`))
      const begin = seen.find((x) => x.endsWith(' begin'))!
      const id = begin.split(' ')[1]
      expect(seen.indexOf(`send ${Number(id) + 1} insert into hop values (1003, 'tx')`)).toBeLessThan(seen.indexOf(`answer ${id}`))
      const e = await rejection(driver.transaction(async (q) => {
        await q.exec(`insert into hop values (1004, 'tx')`)
        await q.exec(`insert into hop values (1004, 'again')`)
      }))
      expect((e as { code?: string }).code).toBe('23505')
      // A COPY outside a transaction is one message of its own.
      const before = seen.length
      expect(await driver.copyBinaryFrom('hop (id, v)', binaryRows([[1005, 'copied']]))).toBe(1)
      expect(seen.slice(before).filter((x) => x.startsWith('send'))).toEqual([expect.stringMatching(/^send \d+ copy$/)])
    } finally {
      proto.postMessage = post
    }
    expect((await driver.query('select id from hop where id in (1003, 1004, 1005) order by id')).rows).toEqual([{ id: 1003 }, { id: 1005 }])
  })
})

/** Rows (int, text) in COPY's binary format. */
function binaryRows(rows: [number, string][]): Uint8Array {
  // The signature PGCOPY\n\xff\r\n\0, then flags and header extension length (zero).
  const parts: number[] = [80, 71, 67, 79, 80, 89, 10, 255, 13, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0]
  const int32 = (n: number) => parts.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255)
  for (const [id, v] of rows) {
    parts.push(0, 2)
    int32(4)
    int32(id)
    const text = new TextEncoder().encode(v)
    int32(text.length)
    parts.push(...text)
  }
  parts.push(255, 255)
  return new Uint8Array(parts)
}

describe('closing the store', () => {
  test('reads in flight when close() is called are answered; calls after it fail at once', async () => {
    const driver = await PGliteDriver.open({ loadDataDir: await templateBlob() })
    const inFlight = Array.from({ length: READS_IN_FLIGHT + 2 }, (_, i) => driver.query<{ x: number }>('select $1::int as x', [i], { prepare: true }))
    const closing = driver.close()
    const answers = await Promise.all(inFlight)
    expect(answers.map((a) => a.rows[0]!.x)).toEqual(inFlight.map((_, i) => i))
    await closing
    const after = (await rejection(driver.query('select 1'))) as Error
    expect(after.message).toContain('closed')
    expect(((await rejection(driver.transaction(async (q) => q.query('select 1')))) as Error).message).toContain('closed')
  })
})
