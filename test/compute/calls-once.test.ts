import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { openai } from '../../src/ai/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { memoryDb } from '../support/db.ts'
import { fakeServer } from '../ai/fake-llm.ts'
import type { FakeServer } from '../ai/fake-llm.ts'

// When a batched function fails for its whole batch (one bad input), its rows are retried one by one to find the
// failing one; the functions inside its arguments (an LLM, a UDF) are not called again for that: each is called once
// per row, as README says of computed columns, and each row gets its own value or error.

let db: Tessera | undefined
let llm: FakeServer | undefined
afterEach(async () => {
  await db?.close()
  llm?.stop()
  db = undefined
  llm = undefined
})

/** A batched classifier that refuses a whole batch holding a text with 'bad' in it. */
function classifier(name: string) {
  const seen = { calls: 0 }
  const fn = udf({
    name, returns: 'string', batchSize: 8,
    fn: (texts: string[]) => {
      seen.calls++
      if (texts.some((t) => t.includes('bad'))) throw new Error(`classifier refused ${texts.length} texts`)
      return texts.map((t) => (t.length > 15 ? 'long' : 'short'))
    },
  })
  return { fn, seen }
}

const ROWS = [{ id: 1, prompt: 'one' }, { id: 2, prompt: 'bad two' }, { id: 3, prompt: 'three' }, { id: 4, prompt: 'four' }]

describe('a failing batched function over model answers', () => {
  test('each prompt is sent once; the failing row gets its error, the others their values', async () => {
    db = await memoryDb()
    llm = fakeServer((req) => Response.json({ id: 'x', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `answer to ${req.body.messages.at(-1).content}` } }] }))
    const classify = classifier('test_once_classify')
    const t = await db.createTable('t', { id: 'int', prompt: 'string' })
    await t.addComputedColumn('label', classify.fn(openai.chat(t.c.prompt, { model: 'm', baseUrl: `${llm.url}/v1` })), { onError: 'ignore' })
    await t.insert(ROWS, { onError: 'ignore' })

    expect(llm.seen.map((s) => s.body.messages.at(-1).content).sort()).toEqual(['bad two', 'four', 'one', 'three'])
    // The batch, then each row alone to find the failing one.
    expect(classify.seen.calls).toBe(1 + ROWS.length)
    const rows = (await t.select('id', 'label', t.c.label.errormsg).orderBy(t.c.id).collect()).rows
    expect(rows).toEqual([
      { id: 1, label: 'short', label_errormsg: null },
      { id: 2, label: null, label_errormsg: 'classifier refused 1 texts' },
      { id: 3, label: 'short', label_errormsg: null },
      { id: 4, label: 'short', label_errormsg: null },
    ])
  })

  test('a non-deterministic UDF inside is called once per row, and its answers reach the outer function', async () => {
    db = await memoryDb()
    let n = 0
    const sample = udf({ name: 'test_once_sample', returns: 'string', deterministic: false, fn: (s: string) => `${s} #${++n}` })
    const classify = classifier('test_once_classify2')
    const t = await db.createTable('t', { id: 'int', prompt: 'string' })
    await t.insert(ROWS)
    await t.addComputedColumn('label', classify.fn(sample(t.c.prompt)), { onError: 'ignore' })

    expect(n).toBe(ROWS.length)
    const rows = (await t.select('id', 'label', t.c.label.errortype).orderBy(t.c.id).collect()).rows
    expect(rows).toEqual([
      { id: 1, label: 'short', label_errortype: null },
      { id: 2, label: null, label_errortype: 'Error' },
      { id: 3, label: 'short', label_errortype: null },
      { id: 4, label: 'short', label_errortype: null },
    ])
  })
})
