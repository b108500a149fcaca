import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { RemoteTessera } from '../../src/client/index.ts'
import { connect, TesseraError } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// The client's stream() reads pages of POST /query, each table pinned at its version when the stream starts. As in
// process (test/query/stream-revert.test.ts), a revert past that version between two pages fails the stream with
// CONCURRENCY_CONFLICT, a drop with TABLE_NOT_FOUND, both naming the table, before any row of another state; writes
// that are not reverts leave the stream alone. The server tells a pinned version's commits apart by a stamp
// (src/server/version-stamps.ts), the client checks it after every page (src/client/stream-pins.ts).

let db: Tessera
let app: ReturnType<typeof createApp>
let client: RemoteTessera

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
})
afterAll(async () => {
  await db.close()
})

type Row = { id: number; tag: string }

/** A table of `rows` rows tagged 'old', written in two versions (a revert pops the second one). */
async function tableOf(path: string, rows: number) {
  const t = await db.createTable(path, { id: 'int', tag: 'string' })
  await t.insert(Array.from({ length: rows - 1 }, (_, i) => ({ id: i, tag: 'old' })))
  await t.insert([{ id: rows - 1, tag: 'old' }])
  return t
}

/** A remote stream of `path` in pages of `batchSize`, with its first page read. */
async function streamFirstPage(path: string, batchSize: number) {
  const rt = await client.getTable(path)
  const it = rt.query().stream({ batchSize })[Symbol.asyncIterator]() as AsyncIterator<Row>
  const seen: Row[] = []
  for (let i = 0; i < batchSize; i++) seen.push((await it.next()).value as Row)
  return { it, seen, version: rt.version }
}

/** Reads the rest of a stream into `seen`; the error it failed with (undefined when it finished). */
async function restOf(it: AsyncIterator<Row>, seen: Row[]): Promise<TesseraError | undefined> {
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value)
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError)
    return e as TesseraError
  }
  return undefined
}

describe('a remote stream checks its pinned versions after every page', () => {
  test('a revert between pages: CONCURRENCY_CONFLICT naming the table and the version, after the old rows only', async () => {
    const t = await tableOf('sp_reverted', 10)
    const { it, seen, version } = await streamFirstPage('sp_reverted', 3)
    await t.revert()
    const e = await restOf(it, seen)
    expect(e?.code).toBe('CONCURRENCY_CONFLICT')
    expect(e?.message).toContain(`version ${version} of 'sp_reverted' was reverted while a stream read it`)
    expect(e?.details).toMatchObject({ path: 'sp_reverted', version })
    expect(seen.map((r) => r.id)).toEqual([0, 1, 2])
  })

  test('a revert and a new write that takes the version\'s number: CONCURRENCY_CONFLICT, no row of the new write', async () => {
    const t = await tableOf('sp_retaken', 10)
    const { it, seen, version } = await streamFirstPage('sp_retaken', 3)
    await t.revert()
    await t.insert(Array.from({ length: 10 }, (_, i) => ({ id: 100 + i, tag: 'new' })))
    expect(t.version).toBe(version)
    const e = await restOf(it, seen)
    expect(e?.code).toBe('CONCURRENCY_CONFLICT')
    expect(e?.message).toContain(`of 'sp_retaken' was reverted`)
    expect(seen.filter((r) => r.tag !== 'old')).toEqual([])
  })

  test('a revert through the client itself fails the stream the same way', async () => {
    await tableOf('sp_client_revert', 6)
    const { it, seen } = await streamFirstPage('sp_client_revert', 2)
    const writer = await client.getTable('sp_client_revert')
    await writer.revert()
    await writer.insert([{ id: 50, tag: 'new' }, { id: 51, tag: 'new' }])
    expect((await restOf(it, seen))?.code).toBe('CONCURRENCY_CONFLICT')
    expect(seen.every((r) => r.tag === 'old')).toBe(true)
  })

  test('a drop between pages: TABLE_NOT_FOUND naming the table, not a revert', async () => {
    await tableOf('sp_dropped', 10)
    const { it, seen } = await streamFirstPage('sp_dropped', 3)
    await db.dropTable('sp_dropped')
    const e = await restOf(it, seen)
    expect(e?.code).toBe('TABLE_NOT_FOUND')
    expect(e?.message).toContain(`'sp_dropped'`)
    expect(e?.message).not.toContain('reverted')
    expect(seen).toHaveLength(3)
  })

  test('a drop and another table created at the same path: TABLE_NOT_FOUND, never the other table\'s rows', async () => {
    await tableOf('sp_replaced', 10)
    const { it, seen, version } = await streamFirstPage('sp_replaced', 3)
    await db.dropTable('sp_replaced')
    const other = await db.createTable('sp_replaced', { id: 'int', tag: 'string' })
    // As many versions as the dropped table had, so 'sp_replaced:N' names a version of the new table.
    while (other.version < version) await other.insert(Array.from({ length: 10 }, (_, i) => ({ id: 1000 + i, tag: 'other' })))
    const e = await restOf(it, seen)
    expect(e?.code).toBe('TABLE_NOT_FOUND')
    expect(e?.message).toContain(`'sp_replaced' was dropped`)
    expect(seen.filter((r) => r.tag !== 'old')).toEqual([])
  })

  test('an insert, an update and a delete between pages: the stream completes with the pinned version\'s rows only', async () => {
    const t = await tableOf('sp_written', 10)
    const { it, seen } = await streamFirstPage('sp_written', 3)
    await t.insert([{ id: 99, tag: 'new' }])
    await t.where(t.c.id.lt(8)).update({ tag: 'changed' })
    await t.where(t.c.id.eq(9)).delete()
    expect(await restOf(it, seen)).toBeUndefined()
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => ({ id: i, tag: 'old' })))
  })

  test('a join is watched per table: reverting the joined table fails the stream', async () => {
    await tableOf('sp_left', 6)
    const right = await tableOf('sp_right', 6)
    const [l, r] = [await client.getTable('sp_left'), await client.getTable('sp_right')]
    const q = l.join(r, { on: l.c.id.eq(r.c.id) }).select({ id: l.c.id, tag: r.c.tag }).orderBy(l.c.id)
    const it = q.stream({ batchSize: 2 })[Symbol.asyncIterator]() as AsyncIterator<Row>
    const seen = [(await it.next()).value as Row]
    await right.revert()
    await right.insert([{ id: 5, tag: 'new' }])
    const e = await restOf(it, seen)
    expect(e?.code).toBe('CONCURRENCY_CONFLICT')
    expect(e?.message).toContain(`of 'sp_right' was reverted`)
    expect(seen.every((x) => x.tag === 'old')).toBe(true)
  })

  test('a view streams whole while its base is written (no false alarm)', async () => {
    const base = await tableOf('sp_base', 10)
    await db.createView('sp_view', base, { where: base.c.id.ge(0) })
    const { it, seen } = await streamFirstPage('sp_view', 3)
    await base.insert([{ id: 77, tag: 'new' }])
    await base.where(base.c.id.lt(2)).delete()
    expect(await restOf(it, seen)).toBeUndefined()
    expect(seen.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => i))
  })
})

describe('the stamp a stream sends back is checked by the server', () => {
  const get = async (path: string) => {
    const res = await app.fetch(new Request(`http://127.0.0.1/api/v1/tables/${path}`))
    return { status: res.status, stamp: res.headers.get('tessera-version-stamp'), body: (await res.json()) as { error?: { code: string; message: string } } }
  }

  test('a pinned version\'s info carries its stamp; the stamp sent back answers the same info while it holds', async () => {
    const t = await tableOf('sp_stamped', 3)
    expect((await get('sp_stamped')).stamp).toBeNull()
    const pinned = await get(`sp_stamped:${t.version}`)
    expect(pinned.stamp).toMatch(/^\d+\.\d+\.[A-Za-z0-9_-]+$/)
    const checked = await get(`sp_stamped:${t.version}?stamp=${pinned.stamp}`)
    expect([checked.status, checked.stamp, checked.body]).toEqual([200, pinned.stamp, pinned.body])
    await t.insert([{ id: 9, tag: 'new' }])
    expect((await get(`sp_stamped:${t.version - 1}?stamp=${pinned.stamp}`)).status).toBe(200)
  })

  test('a bad stamp is a 400 naming the parameter, never a 5xx', async () => {
    const t = await tableOf('sp_bad', 3)
    const good = (await get(`sp_bad:${t.version}`)).stamp!
    const older = (await get(`sp_bad:${t.version - 1}`)).stamp!
    for (const [path, why] of [
      [`sp_bad:${t.version}?stamp=nonsense`, 'must be a Tessera-Version-Stamp'],
      [`sp_bad:${t.version}?stamp=${'9'.repeat(101)}`, 'longer than 100 characters'],
      [`sp_bad:${t.version}?stamp=${'9'.repeat(16)}.1.${'A'.repeat(40)}`, 'must be a Tessera-Version-Stamp'],
      [`sp_bad:${t.version}?stamp=1.1.a+b`, 'must be a Tessera-Version-Stamp'],
      [`sp_bad:${t.version}?stamp=`, 'must be a Tessera-Version-Stamp'],
      [`sp_bad?stamp=${good}`, "name it as 'sp_bad:N'"],
      [`sp_bad:${t.version}?stamp=${older}`, 'the stamp of another version'],
    ] as const) {
      const r = await get(path)
      expect({ path, status: r.status, code: r.body.error?.code }).toEqual({ path, status: 400, code: 'INVALID_ARGUMENT' })
      expect(r.body.error?.message).toContain(why)
    }
    // A stamp of a table id that never existed: that table is not this one (dropped, for a stream that held it).
    const foreign = await get(`sp_bad:${t.version}?stamp=999999.${t.version}.${good.split('.')[2]}`)
    expect([foreign.status, foreign.body.error?.code]).toEqual([404, 'TABLE_NOT_FOUND'])
  })

  test('the stamp parameter is documented with its bound', async () => {
    const doc = (await (await app.fetch(new Request('http://127.0.0.1/openapi.json'))).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; schema: unknown }[] }>> }
    expect(doc.paths['/api/v1/tables/{path}']?.get?.parameters?.find((p) => p.name === 'stamp')?.schema).toEqual({ type: 'string', maxLength: 100 })
  })
})
