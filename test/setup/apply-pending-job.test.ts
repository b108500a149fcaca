import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import { embedders, Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { createApp } from '../../src/server/app.ts'
import { applySetup, defineSetup } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { templateBlob, tempDir } from '../support/db.ts'

// A setup's background index rebuild (ifExists: 'replace', background: true) runs past the apply that started it, and
// swaps its index in when done. An apply of a setup that no longer asks for what that job builds (the deploy rolled
// back to the index as it is, or changed the embedder again) said "nothing to change", because a job was pending for
// the index, and the job then replaced the index with what the setup no longer says. Now such a job is cancelled
// (named in the plan), and one building what the setup says is still kept.

let db: Tessera
// The job's embedder waits until the apply under test has decided (its cancel opens the gate), so the job is pending
// for as long as that apply runs; opened at the end in any case, so that closing does not wait for it.
let open: () => void = () => undefined
let gate: Promise<void> = Promise.resolve()
const closeGate = () => {
  open() // a job an earlier failed test left waiting goes on
  gate = new Promise<void>((r) => (open = r))
}
beforeAll(async () => {
  db = await Tessera.open({ home: join(tempDir('tessera-setup-pending-'), 'data'), restoreFrom: await templateBlob() })
  udf({ name: 'test_pending_gated_embed', returns: 'array<float32>[8]', batchSize: 10, fn: async (texts: string[]) => (await gate, texts.map(() => [1, 0, 0, 0, 0, 0, 0, 0])) })
})
afterAll(async () => {
  open()
  await db.close()
})

/** The target, with its jobs' cancel opening the gate first (a cancel waits for the batch in flight). */
function gated(target: object): SetupTarget {
  return new Proxy(target, {
    get: (t, k) => {
      const v = Reflect.get(t, k, t)
      if (k !== 'jobs') return typeof v === 'function' ? v.bind(t) : v
      const jobs = v as SetupTarget['jobs'] & object
      return { list: () => jobs.list(), startIndex: (o: never) => jobs.startIndex(o), cancel: (id: number, o: { dropColumn?: boolean }) => (open(), jobs.cancel(id, o)) }
    },
  }) as unknown as SetupTarget
}

async function rollBackWhileRebuilding(target: SetupTarget, path: string): Promise<void> {
  closeGate()
  const lexical = defineSetup(async (s) => {
    const docs = await s.createTable(path, { id: 'int', text: 'string' })
    await docs.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 32 }), name: 'lex', ifExists: 'replace', background: true })
  })
  const embedGated = defineSetup(async (s) => {
    const docs = await s.createTable(path, { id: 'int', text: 'string' })
    await docs.addEmbeddingIndex('text', { embed: { fn: 'test_pending_gated_embed', opts: { dims: 8 }, modality: 'text' }, name: 'lex', ifExists: 'replace', background: true })
  })
  await applySetup(lexical, target)
  const docs = await db.getTable(path)
  await docs.insert([{ id: 1, text: 'Lava' }, { id: 2, text: 'Bonds' }, { id: 3, text: 'Cake' }])

  expect((await applySetup(embedGated, target)).changed).toBe(true)
  const job = (await db.jobs.list()).at(-1)!
  expect(job).toMatchObject({ table: path, index: 'lex', status: 'running', builds: { dims: 8, embed: { fn: 'test_pending_gated_embed' } } })
  expect((await target.jobs!.list()).at(-1)!.builds).toMatchObject({ metric: 'cosine', dims: 8, embed: { fn: 'test_pending_gated_embed', opts: { dims: 8 } } })
  // The same setup again: the job builds what it says.
  expect(await applySetup(embedGated, target)).toEqual({ changes: [], changed: false })

  // Back to the index as it is: the pending job would replace it.
  const id = (await target.jobs!.list()).at(-1)!.id
  const cancel = `cancel the background rebuild of embedding index on ${path}.text (lex) with test_pending_gated_embed({"dims":8}) (job ${id})`
  expect((await applySetup(lexical, target, { plan: true })).changes).toEqual([cancel])
  expect((await db.jobs.get(job.id)).status).toBe('running')
  expect((await applySetup(lexical, target)).changes).toEqual([cancel])
  open()
  expect((await db.jobs.wait(job.id)).status).toBe('cancelled')
  expect(docs.listIndexes()).toEqual([expect.objectContaining({ name: 'lex', dims: 32, embed: expect.objectContaining({ fn: 'lexical_embed' }) })])
  expect((await applySetup(lexical, target)).changed).toBe(false)
}

test('a pending background rebuild the setup no longer asks for is cancelled; one it asks for is kept', async () => {
  await rollBackWhileRebuilding(gated(db), 'docs')
})

test('and over HTTP (tessera apply --url), where the job list says what each index job builds', async () => {
  const app = createApp(db)
  await rollBackWhileRebuilding(gated(connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })), 'docs_http')
})
