import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import { Tessera } from '../../src/index.ts'
import { killServers, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'

// A background job left interrupted (its process stopped mid-way) continues when `tessera serve` starts.

afterAll(killServers)

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
  const { proc, output: text } = await startServe(home, port)
  expect(text).toContain(`resumed job ${job.id} (big.shout:`)
  const client = connect(`http://127.0.0.1:${port}`)
  let status = ''
  for (let i = 0; i < 1200 && status !== 'done'; i++) {
    status = (await client.http.request<{ status: string }>('GET', `/api/v1/jobs/${job.key}`)).status
    if (status !== 'done') await Bun.sleep(50)
  }
  expect(status).toBe('done')
  const big = await client.getTable('big')
  expect(await big.where(big.c.shout.eq(big.c.name.upper())).count()).toBe(20000)
  proc.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
}, 180000)
