import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { openai } from '../../src/ai/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'
import { fakeServer } from '../ai/fake-llm.ts'
import type { FakeServer } from '../ai/fake-llm.ts'

// Cancelling (or dropping the table of) a background job that calls a model stops its calls mid-batch: the requests
// not yet sent are never sent, those in flight are aborted (jobs-cancel-inflight.test.ts times that against a server
// holding them), the answers already received are written (they were paid for), and a resume asks only for the rest.
// Counts of requests, not timings: once cancel() returns, the job's loop has ended.

const N = 200

let db: Tessera | undefined
let llm: FakeServer | undefined
afterEach(async () => {
  await db?.close()
  llm?.stop()
  db = undefined
  llm = undefined
})

/** A slow fake model: each answer takes `ms`, so a 200-row batch is still sending requests when the test acts. */
function slowModel(ms: number): FakeServer {
  return fakeServer(async (req) => {
    await Bun.sleep(ms)
    return Response.json({ id: 'x', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `ok ${req.body.messages.at(-1).content}` } }] })
  })
}

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await Bun.sleep(5)
  }
}

async function promptsTable(d: Tessera) {
  const t = await d.createTable('docs', { id: 'int', prompt: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, prompt: `p${i}` })))
  return t
}

describe('cancelling a background job that calls a model', () => {
  test('cancel stops sending, aborts the requests in flight, keeps the answers received, and resume asks only for the rest', async () => {
    db = await memoryDb()
    llm = slowModel(40)
    const t = await promptsTable(db)
    // One batch for the whole table (the default 1000 rows): the stop has to reach inside the batch.
    const job = await db.jobs.start({ table: t, column: 'answer', expr: openai.chat(t.c.prompt, { model: 'm', baseUrl: `${llm.url}/v1` }) })
    await until(() => llm!.seen.length >= 20)

    const cancelled = await db.jobs.cancel(job.id)
    const sent = llm.seen.length
    expect(cancelled.status).toBe('cancelled')
    expect(sent).toBeLessThan(N)
    // The rows answered before the cancel are written (up to the first one not answered: the job's cursor marks a
    // prefix); the requests in flight were aborted, not waited for, so their rows are not done.
    const kept = cancelled.rowsDone
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThanOrEqual(sent)
    await Bun.sleep(100)
    expect(llm.seen.length).toBe(sent)

    await db.jobs.resume(job.id)
    const done = await db.jobs.wait(job.id)
    expect(done.status).toBe('done')
    expect(done.rowsDone).toBe(N)
    // Resume asks for every row not done and only those: a kept row was asked once in all, an aborted one again.
    expect(llm.seen.length).toBe(sent + N - kept)
    const prompts = llm.seen.map((s) => s.body.messages.at(-1).content as string)
    expect(new Set(prompts).size).toBe(N)
    for (let i = 0; i < kept; i++) expect(prompts.filter((p) => p === `p${i}`)).toHaveLength(1)
    const rows = (await t.select('id', 'answer').orderBy(t.c.id).collect()).rows
    expect(rows).toEqual(Array.from({ length: N }, (_, i) => ({ id: i, answer: `ok p${i}` })))
  })

  test('POST /api/v1/jobs/{id}/cancel answers once the requests stop, with the rows answered so far done', async () => {
    db = await memoryDb()
    llm = slowModel(40)
    const call = jsonCaller(createApp(db))
    const t = await promptsTable(db)
    const job = await db.jobs.start({ table: t, column: 'answer', expr: openai.chat(t.c.prompt, { model: 'm', baseUrl: `${llm.url}/v1` }) })
    await until(() => llm!.seen.length >= 20)
    const r = await call('POST', `/api/v1/jobs/${job.key}/cancel`)
    const sent = llm.seen.length
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('cancelled')
    expect(sent).toBeLessThan(N)
    expect(r.body.rowsDone).toBeGreaterThan(0)
    expect(r.body.rowsDone).toBeLessThanOrEqual(sent)
  })

  test('dropping the table stops the job: no requests for a table that is gone', async () => {
    db = await memoryDb()
    llm = slowModel(40)
    const t = await promptsTable(db)
    const job = await db.jobs.start({ table: t, column: 'answer', expr: openai.chat(t.c.prompt, { model: 'm', baseUrl: `${llm.url}/v1` }) })
    await until(() => llm!.seen.length >= 20)
    await db.dropTable('docs')
    // wait() resolves when the loop ends; the job's row went with the table, so it then reports it missing.
    await db.jobs.wait(job.id).catch(() => undefined)
    const sent = llm.seen.length
    expect(sent).toBeLessThan(N)
    await Bun.sleep(100)
    expect(llm.seen.length).toBe(sent)
  })

  test('a row-by-row UDF stops between rows, and the rows it computed are kept', async () => {
    db = await memoryDb()
    let calls = 0
    const slow = udf({
      name: 'test_cancel_slow_tag', returns: 'string',
      fn: async (s: string) => {
        calls++
        await Bun.sleep(5)
        return `${s}!`
      },
    })
    const t = await promptsTable(db)
    const job = await db.jobs.start({ table: t, column: 'tag', expr: slow(t.c.prompt) })
    await until(() => calls >= 20)
    const cancelled = await db.jobs.cancel(job.id)
    expect(calls).toBeLessThan(N)
    expect(cancelled.rowsDone).toBe(calls)

    await db.jobs.resume(job.id)
    expect((await db.jobs.wait(job.id)).status).toBe('done')
    expect(calls).toBe(N)
    const rows = (await t.select('id', 'tag').orderBy(t.c.id).collect()).rows
    expect(rows).toEqual(Array.from({ length: N }, (_, i) => ({ id: i, tag: `p${i}!` })))
  })
})
