import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// A job's event stream (GET /jobs/{id}/events) checked its token once, when it began: it went on after the token
// was revoked, and after the table moved out of the token's scopes it went on sending progress that named the new
// path. It now asks again at each step and ends with an 'end' event saying why, naming no table.

let db: Tessera
let app: ReturnType<typeof createApp>
let tokens: TokenStore
let open!: () => void
const gate = new Promise<void>((resolve) => (open = resolve))

// Every batch waits for the gate: the job runs for as long as the test needs it to.
const held = udf({ name: 'test_job_events_held_len', returns: 'int', batchSize: 1, fn: async (texts: string[]) => (await gate, texts.map((s) => s.length)) })

beforeAll(async () => {
  db = await memoryDb()
  tokens = new TokenStore(db.driver)
  app = createApp(db, { authenticate: tokens.authenticate, tokens })
  await db.createDir('user_1')
  await db.createDir('elsewhere')
})
afterAll(async () => {
  open()
  await db.close()
})

/**
 * Reads an SSE answer: once its first progress event is in, runs `then` (the stream is known to be going); then reads
 * to the end. Its events as [name, parsed data].
 */
async function events(res: Response, then: () => Promise<void>): Promise<[string, any][]> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let ran = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
    if (!ran && text.includes('event: progress')) {
      ran = true
      await then()
    }
  }
  return text.split('\n\n').filter((b) => b.trim()).map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
    const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
    return [event, data ? JSON.parse(data) : undefined]
  })
}

async function runningJob(table: string) {
  const t = await db.createTable(table, { s: 'string' })
  await t.insert([{ s: 'a' }, { s: 'bb' }])
  return db.jobs.start({ table: t, column: 'n', expr: held(t.c.s) })
}

test('a revoked token ends the stream with an end event saying so', async () => {
  const job = await runningJob('user_1/revoked')
  const token = await tokens.create('watcher', { scopes: [{ prefix: 'user_1', access: 'read' }] })
  const res = await app.request(`/api/v1/jobs/${job.key}/events?intervalMs=100`, { headers: { authorization: `Bearer ${token}` } })
  expect(res.status).toBe(200)
  const got = await events(res, () => tokens.revoke('watcher'))
  expect(got[0]![0]).toBe('progress')
  expect(got.at(-1)).toEqual(['end', { error: { code: 'UNAUTHORIZED', message: 'the API token was revoked' } }])
})

test('a table moved out of the scope ends the stream without naming its new path', async () => {
  const job = await runningJob('user_1/moving')
  const token = await tokens.create('mover', { scopes: [{ prefix: 'user_1', access: 'read' }] })
  const res = await app.request(`/api/v1/jobs/${job.key}/events?intervalMs=100`, { headers: { authorization: `Bearer ${token}` } })
  const got = await events(res, () => db.move('user_1/moving', 'elsewhere/moved'))
  expect(JSON.stringify(got)).not.toContain('elsewhere')
  expect(got.at(-1)).toEqual(['end', { error: { code: 'FORBIDDEN', message: "token 'mover' may no longer read this job's table" } }])
})
