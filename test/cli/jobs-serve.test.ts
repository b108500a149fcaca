import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import { Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'

// A background job left interrupted (its process stopped mid-way) continues when `tessera serve` starts.

const BIN = join(import.meta.dir, '../../bin/tessera.ts')
const procs: ReturnType<typeof Bun.spawn>[] = []
afterAll(() => procs.forEach((p) => p.kill(9)))

test('tessera serve resumes an interrupted background job at start', async () => {
  const home = join(tempDir(), 'data')
  const db = await Tessera.open({ home })
  const t = await db.createTable('big', { id: 'int', name: 'string' })
  await t.insert(Array.from({ length: 20000 }, (_, i) => ({ id: i, name: `n${i}` })))
  const job = await db.jobs.start({ table: t, column: 'shout', expr: t.c.name.upper(), batchSize: 50 })
  await db.close() // stops the job's loop between batches; the catalog still says running
  const reopened = await Tessera.open({ home })
  expect((await reopened.jobs.get(job.id)).status).toBe('interrupted')
  await reopened.close()

  const port = 21000 + Math.floor(Math.random() * 20000)
  const proc = Bun.spawn([process.execPath, BIN, 'serve', '--home', home, '--port', String(port), '--quiet'], { stdout: 'pipe', stderr: 'pipe' })
  procs.push(proc)
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
  let text = ''
  while (!text.includes('serving')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`server exited: ${text} ${await new Response(proc.stderr).text()}`)
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  expect(text).toContain(`resumed job ${job.id} (big.shout:`)
  const client = connect(`http://127.0.0.1:${port}`)
  let status = ''
  for (let i = 0; i < 1200 && status !== 'done'; i++) {
    status = (await client.http.request<{ status: string }>('GET', `/api/v1/jobs/${job.id}`)).status
    if (status !== 'done') await Bun.sleep(50)
  }
  expect(status).toBe('done')
  const big = await client.getTable('big')
  expect(await big.where(big.c.shout.eq(big.c.name.upper())).count()).toBe(20000)
  proc.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
}, 180000)
