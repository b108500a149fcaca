import { afterAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import { killServers, runCli, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'

// The CLI as an operator uses it: init, serve, a refused second serve, doctor, graceful SIGTERM during a write,
// check, backup (local and over HTTP) and restore.

afterAll(killServers)
const run = runCli
const startServer = async (home: string, port: number) => (await startServe(home, port)).proc

test('init, serve, refused second writer, doctor, graceful stop, check, backup, restore', async () => {
  const home = join(tempDir(), 'data')
  expect((await run('init', '--home', home)).stdout).toContain('data dir ready')

  const port = 20000 + Math.floor(Math.random() * 20000)
  const server = await startServer(home, port)
  const second = await run('serve', '--home', home, '--port', String(port + 1))
  expect(second.code).toBe(3)
  expect(second.stderr).toContain(`process ${server.pid}`)
  const doc = await run('doctor', '--home', home)
  expect(doc.stdout).toContain(`held by process ${server.pid}`)

  const client = connect(`http://127.0.0.1:${port}`)
  const t = await client.createTable('ops', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 0, text: 'first' }])
  expect((await run('backup', join(tempDir(), 'remote'), '--url', `http://127.0.0.1:${port}`)).code).toBe(0)

  // a batch job runs beside the server, over HTTP
  const job = join(tempDir(), 'job.ts')
  writeFileSync(job, `export default async function (db, args) {
  const t = await db.getTable('ops')
  await t.insert([{ id: -1, text: 'from job ' + args.join(' ') }])
}
`)
  const jr = await run('run', job, '--url', `http://127.0.0.1:${port}`, 'nightly')
  expect(jr.code).toBe(0)
  expect((await t.where(t.c.id.eq(-1)).select('text').collect()).rows).toEqual([{ text: 'from job nightly' }])

  // SIGTERM while a large insert is in flight: the insert completes, then the server closes the data dir.
  const big = t.insert(Array.from({ length: 20000 }, (_, i) => ({ id: i + 1, text: `row ${i}` })))
  await Bun.sleep(30)
  server.kill('SIGTERM')
  const status = await big
  expect(status.numInserted).toBe(20000)
  expect(await server.exited).toBe(0)

  const check = await run('check', '--home', home)
  expect(check.stdout).toContain('ok: 1 tables consistent')
  const doctor = await run('doctor', '--home', home)
  expect(doctor.stdout).toContain('lock: free')
  expect(doctor.stdout).toContain('integrity: ok')

  const backupDir = join(tempDir(), 'backup')
  expect((await run('backup', backupDir, '--home', home)).code).toBe(0)
  const restored = join(tempDir(), 'restored')
  const r = await run('restore', backupDir, '--home', restored)
  expect(r.stdout).toContain('restored 1 tables')
  expect((await run('restore', backupDir, '--home', restored)).code).toBe(2) // never over live data

  const server2 = await startServer(restored, port + 2)
  const t2 = await connect(`http://127.0.0.1:${port + 2}`).getTable('ops')
  expect(await t2.count()).toBe(20002)
  server2.kill('SIGTERM')
  expect(await server2.exited).toBe(0)
}, 180000)
