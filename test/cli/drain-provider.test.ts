import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { BIN } from '../support/cli.ts'
import { templateBlob, tempDir } from '../support/db.ts'

// SIGTERM while work waits on a slow LLM provider: the process exits within the drain timeout (plus the few seconds
// closing may take), with 0. A background job's provider requests are cut off once no request is in flight, and the
// job continues at the next start, with no cell failed by the cut; a request still running at the drain timeout is
// cut off with the process, and leaves nothing written. Before, the process lived until the provider answered.

const SLOW_MS = 120_000
let slow = true
/** Provider requests of prompts starting with 'slow': started, and those the client aborted (the server saw it go). */
const started: string[] = []
const aborted: string[] = []
let fake: ReturnType<typeof Bun.serve>
const spawned: ReturnType<typeof Bun.spawn>[] = []

beforeAll(() => {
  fake = Bun.serve({
    hostname: '127.0.0.1', port: 0, idleTimeout: 0,
    async fetch(req) {
      const body = (await req.json()) as { model: string; messages: { content: string }[] }
      const prompt = String(body.messages.at(-1)?.content)
      if (slow && prompt.startsWith('slow')) {
        started.push(`${body.model}:${prompt}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, SLOW_MS)
          req.signal.addEventListener('abort', () => { aborted.push(`${body.model}:${prompt}`); clearTimeout(timer); resolve() })
        })
      }
      return Response.json({ id: 'c1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: `re: ${prompt}` }, finish_reason: 'stop' }] })
    },
  })
})

afterAll(() => {
  for (const p of spawned) p.kill(9)
  fake?.stop(true)
})

/** `tessera serve` with the fake as its OpenAI endpoint; resolves once it serves, with what it printed until then. */
async function serve(home: string, port: number): Promise<{ proc: ReturnType<typeof Bun.spawn>; output: string }> {
  const proc = Bun.spawn([process.execPath, BIN, 'serve', '--home', home, '--port', String(port), '--quiet', '--drain-timeout', '2s'], {
    stdout: 'pipe', stderr: 'pipe',
    env: { ...process.env, TESSERA_OPENAI_BASE_URL: `http://127.0.0.1:${fake.port}/v1`, TESSERA_OPENAI_API_KEY: 'sk-test' },
  })
  spawned.push(proc)
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
  let output = ''
  while (!output.includes('serving')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`tessera serve exited: ${output} ${await new Response(proc.stderr as ReadableStream).text()}`)
    output += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return { proc, output }
}

async function freshHome(): Promise<string> {
  const home = join(tempDir(), 'data')
  await (await Tessera.open({ home, restoreFrom: await templateBlob() })).close()
  return home
}

const api = (port: number) => async (method: string, path: string, body?: unknown): Promise<any> => {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const json = await res.json()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(25)
  }
}

/** Sends SIGTERM; returns the exit code and the seconds the process took to end. */
async function terminate(proc: ReturnType<typeof Bun.spawn>): Promise<{ code: number; seconds: number }> {
  const t0 = performance.now()
  proc.kill('SIGTERM')
  const code = await proc.exited
  return { code, seconds: (performance.now() - t0) / 1000 }
}

test('jobs waiting on a provider: SIGTERM ends the process in seconds, and the jobs continue at the next start', async () => {
  slow = true
  const home = await freshHome()
  const port = 21000 + Math.floor(Math.random() * 20000)
  const first = await serve(home, port)
  const call = api(port)
  // One job stores a failed cell as an error (the default), one fails as a whole on it: neither may keep the cut.
  // Each on a table of its own (two jobs resumed together on one table race each other, whatever the shutdown).
  const expr = (model: string) => ({ fn: 'openai.chat', args: [{ col: 'prompt' }], opts: { model } })
  const jobs: { table: string; id: string }[] = []
  for (const [table, onError] of [['chat_ignore', 'ignore'], ['chat_abort', 'abort']] as const) {
    await call('POST', '/tables', { path: table, schema: { id: 'int', prompt: 'string' }, primaryKey: 'id' })
    await call('POST', `/tables/${table}/-/rows`, { rows: [{ id: 1, prompt: 'fast a' }, { id: 2, prompt: 'slow b' }, { id: 3, prompt: 'fast c' }] })
    jobs.push({ table, id: (await call('POST', '/jobs', { table, column: 'answer', expr: expr(`m-${onError}`), batchSize: 1, onError })).id })
  }
  await until('both jobs to wait on the slow prompt', () => started.length === 2)

  const { code, seconds } = await terminate(first.proc)
  expect(code).toBe(0)
  // Nothing is in flight, so the drain ends at once, and the store closes as soon as the jobs see their provider
  // requests cut off (not forced at the 5 s limit of closing); the provider would have taken 120 s.
  expect(seconds).toBeLessThan(10)
  expect(await new Response(first.proc.stderr as ReadableStream).text()).not.toContain('closing did not finish')
  expect(aborted.sort()).toEqual(['m-abort:slow b', 'm-ignore:slow b'])

  slow = false
  const port2 = port + 1
  const second = await serve(home, port2)
  const call2 = api(port2)
  expect(second.output).toMatch(/resumed job \d+ \(chat_ignore\.answer: 1\/3 rows done\)/)
  expect(second.output).toMatch(/resumed job \d+ \(chat_abort\.answer: 1\/3 rows done\)/)
  for (const job of jobs) {
    await until(`job ${job.id} to finish`, async () => (await call2('GET', `/jobs/${job.id}`)).status === 'done')
    const rows = (await call2('POST', '/query', { table: job.table, select: { id: { col: 'id' }, answer: { col: 'answer' }, err: { col: 'answer', prop: 'errortype' } }, orderBy: [{ expr: { col: 'id' } }] })).rows
    expect(rows).toEqual([{ id: 1, answer: 're: fast a', err: null }, { id: 2, answer: 're: slow b', err: null }, { id: 3, answer: 're: fast c', err: null }])
  }
  expect((await terminate(second.proc)).code).toBe(0)
}, 240_000)

test('a request still waiting on a provider at the drain timeout is cut off: the process exits 0 and nothing is written', async () => {
  slow = true
  const home = await freshHome()
  const port = 21000 + Math.floor(Math.random() * 20000)
  const { proc } = await serve(home, port)
  const call = api(port)
  await call('POST', '/tables', { path: 'ask', schema: { id: 'int', prompt: 'string' }, primaryKey: 'id' })
  await call('POST', '/tables/ask/-/columns', { name: 'answer', expr: { fn: 'openai.chat', args: [{ col: 'prompt' }], opts: { model: 'm-insert' } }, onError: 'ignore' })
  const before = started.length
  const insert = fetch(`http://127.0.0.1:${port}/api/v1/tables/ask/-/rows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows: [{ id: 1, prompt: 'slow insert' }] }) }).then((r) => r.status, () => 'cut off')
  await until('the insert to wait on the provider', () => started.length > before)

  const { code, seconds } = await terminate(proc)
  expect(code).toBe(0)
  expect(seconds).toBeGreaterThan(1.5) // the request had its drain time
  expect(seconds).toBeLessThan(8)
  expect(await insert).toBe('cut off')
  const db = await Tessera.open({ home })
  try {
    expect(await (await db.getTable('ask')).count()).toBe(0)
  } finally {
    await db.close()
  }
}, 240_000)
