import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { RemoteTessera } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { jpeg } from '../media/fixtures.ts'
import { twoTenants } from './fixtures/two-tenants.ts'

// The read side of the tenant boundary for media store refs (src/media/read-gate.ts). A scoped token's expression
// that resolves a store ref to bytes (image_thumbnail over a literal, a string, a cast) gets another tenant's picture
// back unless the ref must come from a table the caller may read; and a ref of nothing must be refused in the same
// words, or the answer tells whether another tenant stored some bytes. A column definition that stores such a ref
// would serve it through the caller's own media route. Refs read from the caller's own media columns need no lookup.

let db: Tessera
let admin: RemoteTessera
let b: RemoteTessera
let foreignRef: string
let lookups = 0
const missingRef = `media://${'cd'.repeat(32)}.jpg`

type Failure = { code?: string; message?: string }
const failure = (p: Promise<unknown>) => p.then(() => 'ok', (e: Failure) => `${e.code}: ${e.message}`)
const withoutRef = (s: string, ref: string) => s.replaceAll(ref, '<ref>')
const query = (who: RemoteTessera, table: string, expr: unknown) =>
  who.http.request<{ rows: Record<string, unknown>[] }>('POST', '/api/v1/query', { table, select: [{ name: 'x', expr }], orderBy: [{ expr: { col: 'id' } }] })
const thumb = (arg: unknown) => ({ fn: 'image_thumbnail', args: [arg], opts: { size: 16 } })

beforeAll(async () => {
  db = await memoryDb()
  ;({ admin, b, foreignRef } = await twoTenants(db))
  const mine = await b.createTable('tenant_b/photos', { id: 'int', photo: 'image?', note: 'string?' })
  await mine.insert(await Promise.all([1, 2, 3, 4, 5, 6].map(async (id) => ({ id, photo: await jpeg(20 + id, 20, '#20a020'), note: id === 1 ? foreignRef : id === 2 ? missingRef : null }))))
  // Every lookup of the gate goes through here (src/server/media-refs.ts).
  const held = db.heldMediaRefs.bind(db)
  db.heldMediaRefs = (refs, under) => ((lookups += 1), held(refs, under))
})
afterAll(async () => { await db.close() })

describe("a scoped token's query may not read another tenant's media", () => {
  test('a typed literal ref in a media function: refused, in the same words as a ref of nothing, naming the expression', async () => {
    const foreign = await failure(query(b, 'tenant_b/photos', thumb({ lit: foreignRef, type: 'image' })))
    const missing = await failure(query(b, 'tenant_b/photos', thumb({ lit: missingRef, type: 'image' })))
    expect(foreign).toMatch(/^FORBIDDEN: image_thumbnail\(.*token 'b' may not read/)
    expect(foreign).not.toContain('data:image')
    expect(withoutRef(foreign, foreignRef)).toBe(withoutRef(missing, missingRef))
  })

  test('an untyped string literal, a string column and a cast from text: refused alike', async () => {
    const untyped = await failure(query(b, 'tenant_b/photos', thumb({ lit: foreignRef })))
    expect(withoutRef(untyped, foreignRef)).toBe(withoutRef(await failure(query(b, 'tenant_b/photos', thumb({ lit: missingRef }))), missingRef))
    // B wrote A's ref into a string column of its own (strings are not media cells, so no write check saw it).
    const where = (id: number) => ({ table: 'tenant_b/photos', select: [{ name: 'x', expr: thumb({ col: 'note' }) }], where: { fn: 'eq', args: [{ col: 'id' }, { lit: id }] } })
    const fromColumn = await failure(b.http.request('POST', '/api/v1/query', where(1)))
    expect(fromColumn).toMatch(/^FORBIDDEN: .*token 'b' may not read/)
    expect(withoutRef(fromColumn, foreignRef)).toBe(withoutRef(await failure(b.http.request('POST', '/api/v1/query', where(2))), missingRef))
    const [head, tail] = [foreignRef.slice(0, 20), foreignRef.slice(20)]
    const cast = await failure(query(b, 'tenant_b/photos', thumb({ fn: 'astype', args: [{ fn: 'concat', args: [{ lit: head }, { lit: tail }] }], opts: { type: 'image' } })))
    expect(cast).toMatch(/^FORBIDDEN: .*token 'b' may not read/)
  })

  test('a computed column or an update that would store the ref: refused, the table unchanged', async () => {
    const t = await b.getTable('tenant_b/photos')
    const typed = await failure(t.addComputedColumn('stolen', { lit: foreignRef, type: 'image' } as never))
    const missing = await failure(t.addComputedColumn('stolen', { lit: missingRef, type: 'image' } as never))
    expect(typed).toMatch(/^FORBIDDEN: computed column 'stolen'/)
    expect(withoutRef(typed, foreignRef)).toBe(withoutRef(missing, missingRef))
    expect(await failure(t.addComputedColumn('stolen', { fn: 'astype', args: [{ col: 'note' }], opts: { type: 'image' } } as never))).toMatch(/^FORBIDDEN: computed column 'stolen': token 'b' may not make a media value from text/)
    expect(await failure(t.addComputedColumn('stolen', thumb({ lit: foreignRef, type: 'image' }) as never))).toMatch(/^FORBIDDEN: computed column 'stolen'/)
    // A background job's column: the same check before it starts.
    const job = await failure(b.jobs.start({ table: t, column: 'stolen', expr: { lit: foreignRef, type: 'image' } as never, onError: 'abort' }))
    expect(withoutRef(job, foreignRef)).toBe(withoutRef(await failure(b.jobs.start({ table: t, column: 'stolen', expr: { lit: missingRef, type: 'image' } as never, onError: 'abort' })), missingRef))
    expect(job).toMatch(/^FORBIDDEN: column 'stolen'/)
    expect(t.columns().map((c) => c.name)).not.toContain('stolen')
    expect((await b.getTable('tenant_b/photos')).columns().map((c) => c.name)).not.toContain('stolen')
    const update = await failure(t.update({ photo: { fn: 'astype', args: [{ col: 'note' }], opts: { type: 'image' } } as never }, { where: t.c.id.eq(1) }))
    expect(update).toMatch(/^FORBIDDEN: update, column 'photo'/)
    const coalesced = await failure(t.update({ photo: { fn: 'coalesce', args: [{ lit: foreignRef, type: 'image' }, { col: 'photo' }] } as never }, { where: t.c.id.eq(1) }))
    expect(coalesced).toMatch(/^FORBIDDEN: update, column 'photo'/)
    expect((await t.where(t.c.id.eq(1)).collect()).rows[0]!.photo).not.toBe(foreignRef)
  })
})

describe('what a scoped token still reads', () => {
  test("its own table's media, with no lookup per row: thumbnails, derived images, a computed column", async () => {
    lookups = 0
    const rows = (await query(b, 'tenant_b/photos', thumb({ col: 'photo' }))).rows
    expect(rows).toHaveLength(6)
    for (const r of rows) expect(r.x).toMatch(/^data:image\/webp;base64,/)
    const derived = (await query(b, 'tenant_b/photos', thumb({ fn: 'image_grayscale', args: [{ col: 'photo' }] }))).rows
    expect(derived.every((r) => String(r.x).startsWith('data:image/'))).toBe(true)
    const t = await b.getTable('tenant_b/photos')
    await t.addComputedColumn('small', thumb({ col: 'photo' }) as never)
    expect((await t.collect()).rows.every((r) => String(r.small).startsWith('data:image/'))).toBe(true)
    await t.dropColumn('small')
    expect(lookups).toBe(0)
    // A literal naming its own media is one lookup for the query, whatever the number of rows.
    const own = (await t.where(t.c.id.eq(3)).collect()).rows[0]!.photo as string
    const named = (await query(b, 'tenant_b/photos', thumb({ lit: own, type: 'image' }))).rows
    expect(named).toHaveLength(6)
    expect(lookups).toBe(1)
  })

  test('an admin token reads any stored media, as before', async () => {
    const rows = (await query(admin, 'tenant_b/photos', thumb({ lit: foreignRef, type: 'image' }))).rows
    expect(String(rows[0]!.x)).toMatch(/^data:image\//)
    expect(await failure(query(admin, 'tenant_b/photos', thumb({ lit: missingRef, type: 'image' })))).toMatch(/^NOT_FOUND/)
  })
})
