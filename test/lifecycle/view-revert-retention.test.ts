import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import type { Table } from '../../src/index.ts'
import { tempDir, templateBlob } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A view follows a revert of its base by reverting its own latest sync, so a view whose retention removed the
// version before that sync stops the base's revert. The refusal said "cannot revert 'v' to version 3" to a caller who
// had reverted 't', and to loosen "the retention policy" without saying whose: it names the base reverted and the
// view, whose policy is the one to loosen.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
  t = await db.createTable('t', { id: 'int', s: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, s: 'a' }])
  await db.createView('v', t)
  for (const s of ['b', 'c', 'd']) await t.update({ s })
  await db.setRetention({ keepVersions: 1 }, 'v')
  await db.compact()
})
afterAll(async () => { await db.close() })

test("a base revert a view cannot follow under its retention names the view and its policy; nothing is reverted", async () => {
  const before = t.version
  const e = (await rejection(t.revert())) as { code?: string; message: string; details?: Record<string, unknown> }
  expect(e.code).toBe('INVALID_ARGUMENT')
  expect(e.message).toMatch(/^view 'v' cannot follow this revert of 't', which takes it back to its version \d+: compaction removed its rows \(the oldest retained version of 'v' is \d+\); loosen the retention policy of 'v'/)
  expect(e.details).toMatchObject({ path: 'v', table: 't' })
  expect(t.version).toBe(before)
  expect((await (await db.get('v')).select('s').collect()).rows).toEqual([{ s: 'd' }])
})

test('once the view keeps more versions again, later reverts follow', async () => {
  await db.setRetention({ keepVersions: 10 }, 'v')
  await t.update({ s: 'e' })
  await t.revert()
  expect((await (await db.get('v')).select('s').collect()).rows).toEqual([{ s: 'd' }])
})
