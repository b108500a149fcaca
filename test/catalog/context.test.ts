import { afterAll, expect, test } from 'bun:test'
import { image, openai, Tessera } from '../../src/index.ts'
import { PGliteDriver } from '../../src/store/index.ts'
import { fakeServer } from '../ai/fake-llm.ts'
import { png } from '../media/fixtures.ts'
import { templateBlob } from '../support/db.ts'

// Two databases in one process are isolated: each runs its writes, queries and jobs in its own execution context
// (src/catalog/context.ts), so derived media go to its own media store and its provider settings are its own, whichever
// database was opened last.

const answers = (name: string) => fakeServer((req) => Response.json({
  id: 'x', object: 'chat.completion', created: 1, model: req.body.model,
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `${name}: ${req.body.messages.at(-1).content}` } }],
}))
const serverA = answers('A')
const serverB = answers('B')

const open = async (url: string) => Tessera.fromDriver(await PGliteDriver.open({ loadDataDir: await templateBlob() }), { providers: { openai: { baseUrl: `${url}/v1`, apiKey: 'key-of-' + url.slice(-5) } } })
const a = await open(serverA.url)
const b = await open(serverB.url) // opened last: before the context, every derived file went to b's store
afterAll(async () => {
  await a.close()
  await b.close()
  serverA.stop()
  serverB.stop()
})

test('derived media go to the media store of the database that computed them (insert, backfill, job)', async () => {
  const pics = await a.createTable('pics', { id: 'int', photo: 'image' })
  await pics.insert([{ id: 1, photo: await png(64, 48) }])
  await pics.addComputedColumn('thumb', image.resize(pics.c.photo, { width: 16 })) // backfill of the existing row
  await pics.insert([{ id: 2, photo: await png(40, 40, '#00ff00') }]) // computed on insert
  const job = await a.jobs.start({ table: pics, column: 'small', expr: image.resize(pics.c.photo, { width: 8, height: 8 }) })
  await a.jobs.wait(job.id)
  const refs = (await pics.orderBy(pics.c.id).select('thumb', 'small').collect()).rows.flatMap((r) => [r.thumb, r.small]) as string[]
  expect(refs).toHaveLength(4)
  for (const ref of refs) {
    expect(ref).toStartWith('media://')
    expect(await a.media.store.exists(ref)).toBe(true)
    expect(await b.media.store.exists(ref)).toBe(false)
  }
}, 60_000)

test("each database's provider settings reach its own computed columns and queries", async () => {
  const qa = await a.createTable('q', { id: 'int', q: 'string' })
  const qb = await b.createTable('q', { id: 'int', q: 'string' })
  await qa.insert([{ id: 1, q: 'hello' }])
  await qb.insert([{ id: 1, q: 'hello' }])
  await qa.addComputedColumn('r', openai.chat(qa.c.q, { model: 'm' }))
  await qb.addComputedColumn('r', openai.chat(qb.c.q, { model: 'm' }))
  expect((await qa.select('r').collect()).rows).toEqual([{ r: 'A: hello' }])
  expect((await qb.select('r').collect()).rows).toEqual([{ r: 'B: hello' }])
  // a query (nothing stored) evaluates in its database's context too
  expect((await qa.select({ r: openai.chat(qa.c.q, { model: 'm' }) }).collect()).rows).toEqual([{ r: 'A: hello' }])
  expect(serverA.seen.map((s) => s.headers.get('authorization'))).toEqual(Array(2).fill(`Bearer key-of-${serverA.url.slice(-5)}`))
  expect(serverB.seen).toHaveLength(1)
})

test('store session settings are set on each database at open, not by the first similarity query', async () => {
  for (const db of [a, b]) {
    const r = await db.driver.query<{ s: string }>(`select current_setting('hnsw.iterative_scan', true) as s`)
    expect(r.rows[0]!.s).toBe('relaxed_order')
  }
})
