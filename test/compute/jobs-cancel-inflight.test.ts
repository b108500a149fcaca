import { afterEach, describe, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { openAICompatible } from '../../src/ai/index.ts'
import { memoryDb } from '../support/db.ts'
import { holdingServer, until } from '../ai/fake-llm.ts'
import type { HoldingServer } from '../ai/fake-llm.ts'

// Cancelling a background job, or dropping its table, while its provider requests are held open by a slow provider:
// the requests in flight are aborted (the server sees the connections close) and cancel returns at once, where it
// used to wait for the slowest answer (HOLD_MS here). The rows answered before the cancel keep their values; the
// aborted rows are neither results nor errors, so resuming the job asks for them again and computes them.
// STOP_MS is far below the hold and loose for a busy machine: the point is that nobody waits the hold out.

const HOLD_MS = 20_000
const STOP_MS = 5_000
const N = 40
/** Rows answered at once; the next CONCURRENCY are held (one slot each), the rest never sent before the cancel. */
const QUICK = 10
const CONCURRENCY = 4

const model = openAICompatible('cancel_inflight', { baseUrl: 'http://127.0.0.1:1/v1' })

let db: Tessera | undefined
let llm: HoldingServer | undefined
afterEach(async () => {
  await db?.close()
  llm?.stop()
  db = undefined
  llm = undefined
})

const rowOf = (prompt: string) => Number(prompt.slice(1))
const heldPrompts = Array.from({ length: CONCURRENCY }, (_, k) => `p${QUICK + k}`)

/** A provider answering the first QUICK rows at once and holding the others (before the headers, or mid-stream) while `holding()`. */
function provider(holding: () => boolean, how: 'hold' | 'hold-stream'): HoldingServer {
  const server = holdingServer((p) => (holding() && rowOf(p) >= QUICK ? how : 'answer'), HOLD_MS)
  // Default retries (4, backoff from 500 ms): a cut request must not be retried, nor wait out a backoff.
  model.configure({ baseUrl: `${server.url}/v1`, concurrency: CONCURRENCY, retries: { max: 4, backoffMs: 500 } })
  return server
}

async function promptsTable(d: Tessera): Promise<Table> {
  const t = await d.createTable('docs', { id: 'int', prompt: 'string' }, { primaryKey: 'id' })
  await t.insert(Array.from({ length: N }, (_, i) => ({ id: i, prompt: `p${i}` })))
  return t
}

/** Starts the job and waits until the quick rows are answered and the next ones are held. */
async function startHeld(t: Table, options: { stream?: boolean; onError?: 'abort' | 'ignore' } = {}) {
  const job = await db!.jobs.start({ table: t, column: 'answer', expr: model.chat(t.c.prompt, { model: 'm', ...(options.stream ? { stream: true } : {}) }), ...(options.onError ? { onError: options.onError } : {}) })
  // Slots free up only as rows are answered, so QUICK + CONCURRENCY requests mean every quick row has its answer.
  await until('the quick rows answered and the next ones held', () => llm!.started.length === QUICK + CONCURRENCY)
  return job
}

/** Every request asked per prompt. */
const asked = (prompt: string) => llm!.started.filter((p) => p === prompt).length

describe('cancelling a job whose provider requests are held open', () => {
  for (const how of ['hold', 'hold-stream'] as const) {
    test(`cancel aborts the requests in flight (${how === 'hold' ? 'before the headers' : 'mid-stream'}), keeps the rows answered, and resume computes the rest`, async () => {
      db = await memoryDb()
      let holding = true
      llm = provider(() => holding, how)
      const t = await promptsTable(db)
      const job = await startHeld(t, { stream: how === 'hold-stream' })

      const started = performance.now()
      const cancelled = await db.jobs.cancel(job.id)
      expect(performance.now() - started).toBeLessThan(STOP_MS)
      expect(cancelled.status).toBe('cancelled')
      expect(cancelled.rowsDone).toBe(QUICK)
      await until('the server to see the held connections close', () => llm!.aborted.length === CONCURRENCY, STOP_MS)
      expect([...llm.aborted].sort()).toEqual([...heldPrompts].sort())
      // Nothing more was sent: no retry of a cut request, no row after it.
      await Bun.sleep(300)
      expect(llm.started.length).toBe(QUICK + CONCURRENCY)

      holding = false
      await db.jobs.resume(job.id)
      const done = await db.jobs.wait(job.id)
      expect(done.status).toBe('done')
      expect(done.rowsDone).toBe(N)
      const rows = (await t.select('id', 'answer', t.c.answer.errortype).orderBy(t.c.id).collect()).rows
      expect(rows).toEqual(Array.from({ length: N }, (_, i) => ({ id: i, answer: `ok p${i}`, answer_errortype: null })))
      // The kept rows were asked once in all; the aborted ones were not stored (as an error or a result), so asked again.
      for (let i = 0; i < N; i++) expect(asked(`p${i}`)).toBe(heldPrompts.includes(`p${i}`) ? 2 : 1)
    })
  }

  test('dropping the table aborts the requests in flight, and the job ends at once', async () => {
    db = await memoryDb()
    llm = provider(() => true, 'hold')
    const t = await promptsTable(db)
    const job = await startHeld(t)
    const started = performance.now()
    await db.dropTable('docs')
    // wait() resolves when the loop ends; the job's row went with the table, so it then reports it missing.
    await db.jobs.wait(job.id).catch(() => undefined)
    expect(performance.now() - started).toBeLessThan(STOP_MS)
    await until('the server to see the held connections close', () => llm!.aborted.length === CONCURRENCY, STOP_MS)
    await Bun.sleep(300)
    expect(llm.started.length).toBe(QUICK + CONCURRENCY)
  })

  test("a column with onError 'abort' keeps the rows answered before the cancel too", async () => {
    db = await memoryDb()
    let holding = true
    llm = provider(() => holding, 'hold')
    const t = await promptsTable(db)
    const job = await startHeld(t, { onError: 'abort' })
    const started = performance.now()
    const cancelled = await db.jobs.cancel(job.id)
    expect(performance.now() - started).toBeLessThan(STOP_MS)
    expect(cancelled.status).toBe('cancelled')
    // A call cut off or never made is not a failure of the column: the job is cancelled, not failed, and the rows
    // answered before are kept as in an onError 'ignore' column.
    expect(cancelled.error).toBeNull()
    expect(cancelled.rowsDone).toBe(QUICK)

    holding = false
    await db.jobs.resume(job.id)
    const done = await db.jobs.wait(job.id)
    expect(done.status).toBe('done')
    const rows = (await t.select('id', 'answer').orderBy(t.c.id).collect()).rows
    expect(rows).toEqual(Array.from({ length: N }, (_, i) => ({ id: i, answer: `ok p${i}` })))
    for (let i = 0; i < QUICK; i++) expect(asked(`p${i}`)).toBe(1)
  })
})
