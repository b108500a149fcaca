import { afterAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { killServers, runCli, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'

// The CLI path for declared routes, as a user runs it: `tessera apply setup.ts`, `tessera serve --setup setup.ts`,
// then `tessera apply setup.ts --plan --url` against that server. The setup file imports nothing (db.v is valibot).

afterAll(killServers)

const SETUP = `export default async function setup(db) {
  const { v } = db
  await db.createDir('app')
  const docs = await db.createTable('app/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  db.route.insert('/ingest', docs, { params: v.object({ id: v.number(), text: v.string() }) })
  db.route.query('/search', v.object({ q: v.string() }), async ({ q }, ctx) => {
    const t = await ctx.table('app/docs')
    return t.where(t.c.text.contains(q)).select('id', 'text')
  })
}
`

test('apply, serve --setup, call the routes, plan against the server', async () => {
  const dir = tempDir()
  const home = join(dir, 'data')
  const file = join(dir, 'setup.js')
  writeFileSync(file, SETUP)
  const applied = await runCli('apply', file, '--home', home)
  expect(applied.code).toBe(0)
  expect(applied.stdout).toContain('note: route POST /api/v1/app/search (query; q: string), served by tessera serve --setup')

  const port = 21000 + Math.floor(Math.random() * 20000)
  const { proc } = await startServe(home, port, '--setup', file)
  const post = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}/api/v1/app${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  expect(await (await post('/ingest', { id: 1, text: 'lava flows' })).json()).toMatchObject({ inserted: 1 })
  expect(await (await post('/search', { q: 'lava' })).json()).toEqual({ rows: [{ id: 1, text: 'lava flows' }] })
  expect((await post('/search', {})).status).toBe(400)

  const same = await runCli('apply', file, '--plan', '--url', `http://127.0.0.1:${port}`)
  expect(same.stdout).toContain('nothing to change')
  writeFileSync(file, SETUP.replace("db.route.insert('/ingest'", "db.route.insert('/add'"))
  const plan = await runCli('apply', file, '--plan', '--url', `http://127.0.0.1:${port}`)
  expect(plan.stdout).toContain('would add route POST /api/v1/app/add (insert into app/docs; id: number, text: string)')
  expect(plan.stdout).toContain('would remove route POST /api/v1/app/ingest')
  proc.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
}, 120_000)
