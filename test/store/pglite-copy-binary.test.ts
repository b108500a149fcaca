import { afterAll, beforeAll, expect, test } from 'bun:test'
import { PGliteDriver } from '../../src/store/index.ts'
import { CopyBinaryWriter } from '../../src/catalog/data-table/copy-binary.ts'
import { templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// The PGlite driver's own binary COPY (one message to the store worker, which runs BEGIN, COPY and COMMIT): all of a
// payload's rows or none, a failure keeps the line COPY names, and the caller's buffer stays usable.

let driver: PGliteDriver
beforeAll(async () => {
  driver = await PGliteDriver.open({ loadDataDir: await templateBlob() })
  await driver.exec('create table cb (id bigint primary key, s text)')
})
afterAll(() => driver.close())

function payload(rows: readonly [number, string][]): Uint8Array {
  const w = new CopyBinaryWriter()
  for (const [id, s] of rows) {
    w.row(2)
    w.int64(id)
    w.text(s)
  }
  return w.finish()
}

const count = async () => (await driver.query<{ n: number }>('select count(*)::int as n from cb')).rows[0]!.n

test('rows go in; the payload is still readable after', async () => {
  const p = payload([[1, 'a'], [2, 'é 漢字'], [3, '']])
  expect(await driver.copyBinaryFrom('cb (id, s)', p)).toBe(3)
  expect((await driver.query('select id::int as id, s from cb order by id')).rows).toEqual([{ id: 1, s: 'a' }, { id: 2, s: 'é 漢字' }, { id: 3, s: '' }])
  expect(p.byteLength).toBeGreaterThan(19)
  expect(p[0]).toBe(0x50) // 'P' of the signature: not detached by the transfer
})

test('a failing row leaves none of the payload, names its line, and the store is usable after', async () => {
  const before = await count()
  const e = (await rejection(driver.copyBinaryFrom('cb (id, s)', payload([[10, 'x'], [11, 'y'], [1, 'dup']])))) as Error & { code?: string; where?: string }
  expect(e.code).toBe('23505')
  expect(e.where).toContain('line 3')
  expect(await count()).toBe(before)
  // Not left inside an open transaction: a statement after it commits on its own.
  expect(await driver.copyBinaryFrom('cb (id, s)', payload([[10, 'x']]))).toBe(1)
  expect(await count()).toBe(before + 1)
})
