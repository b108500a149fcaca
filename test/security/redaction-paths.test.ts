import { expect, test } from 'bun:test'
import { queryFromJson } from '../../src/api/index.ts'
import { TesseraError } from '../../src/index.ts'
import { redactForeignNames } from '../../src/server/tenant.ts'
import { memoryDb } from '../support/db.ts'

// A query's JSON errors are prefixed with the JSON path they concern ('table: …'), which takes details.path. The
// table path that key held (a dropped view base of another tenant's, say) must stay visible to the tenant redaction,
// or the message names another tenant's table to the caller word for word.

test("an error's table path survives the JSON path prefix, and redaction still takes it out for another tenant", async () => {
  const db = await memoryDb()
  try {
    const e = await queryFromJson(db, { table: 'user_b/secret' }).then(() => undefined, (x: unknown) => x) as TesseraError
    expect(e).toBeInstanceOf(TesseraError)
    expect(e.code).toBe('TABLE_NOT_FOUND')
    expect(e.details).toMatchObject({ path: 'table', table: 'user_b/secret' })
    const alice = { name: 'alice', admin: false, scopes: [{ prefix: 'user_a', access: 'write' as const }] }
    const seen = redactForeignNames(alice as never, e)
    expect(seen.message).not.toContain('user_b')
    // Her own table's error keeps its name.
    const own = await queryFromJson(db, { table: 'user_a/missing' }).then(() => undefined, (x: unknown) => x) as TesseraError
    expect(redactForeignNames(alice as never, own).message).toContain('user_a/missing')
  } finally {
    await db.close()
  }
})
