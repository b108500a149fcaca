import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { RemoteTessera } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { twoTenants } from './fixtures/two-tenants.ts'

// A background job started by a scoped token reads media refs under that token's check (src/media/read-gate.ts) —
// also when it is resumed: a job keeps its requester's access as JSON, and the check is a function, so a resumed
// job (after a restart, or after it failed) ran without it and read another tenant's picture by its ref.

let db: Tessera
let b: RemoteTessera
let foreignRef: string

beforeAll(async () => {
  db = await memoryDb()
  ;({ b, foreignRef } = await twoTenants(db))
  // B holds A's ref as text (strings are not media cells: no write check sees them), and a photo of its own.
  const mine = await b.createTable('tenant_b/notes', { id: 'int', note: 'string' })
  await mine.insert([{ id: 1, note: foreignRef }])
})
afterAll(async () => { await db.close() })

test("a scoped token's job that fails on another tenant's ref fails the same way when resumed", async () => {
  const t = await b.getTable('tenant_b/notes')
  const started = await b.jobs.start({ table: t, column: 'width', expr: { fn: 'image_width', args: [{ col: 'note' }] } as never, onError: 'abort' })
  const id = (await db.jobs.list()).find((j) => j.column === 'width')!.id
  expect((await b.jobs.wait(started.id)).status).toBe('failed')
  const failed = await db.jobs.get(id)
  expect(failed.status).toBe('failed')
  expect(failed.error).toMatch(/token 'b' may not read/)
  // Resumed as a restarted server resumes its jobs: under the access the job saved, not the resumer's.
  await db.jobs.resume(id)
  const after = await db.jobs.wait(id)
  expect(after.status).toBe('failed')
  expect(after.error).toMatch(/token 'b' may not read/)
})
