import { afterAll, expect, test } from 'bun:test'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { killServers, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// Finding 12 of issue 17: a setup file or job that imports 'tessera' gets the running Tessera, from a folder
// outside the project (no node_modules, no package.json), never a package of that name from the registry.

afterAll(killServers)

const SETUP = `import { defineSetup, embedders, Tessera } from 'tessera'
import { connect } from 'tessera/client'
export default defineSetup(async (db) => {
  // Names only the running Tessera has: a registry package called 'tessera' would fail here.
  if (typeof connect !== 'function' || typeof embedders.lexical !== 'function' || typeof Tessera.open !== 'function') {
    throw new Error('not the running tessera')
  }
  await db.createDir('app')
  await db.createTable('app/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
})
`

test("tessera apply: 'tessera' in a setup file outside the project is the running Tessera", async () => {
  const folder = tempDir('tessera-outside-')
  writeFileSync(join(folder, 'setup.ts'), SETUP)
  const r = await cliIn(folder, ['apply', 'setup.ts', '--home', join(folder, 'data')])
  expect(r.stderr).not.toContain('error')
  expect(r.stdout).toContain('create table app/docs')
  expect(r.code).toBe(0)
  // Nothing was installed next to the file.
  expect(readdirSync(folder).sort()).toEqual(['data', 'setup.ts'])
  expect(existsSync(join(folder, 'node_modules'))).toBe(false)
}, 120_000)

test("tessera run: a job importing 'tessera' and 'tessera/client' from outside the project", async () => {
  const folder = tempDir('tessera-outside-')
  const port = 20000 + Math.floor(Math.random() * 20000)
  await startServe(join(folder, 'data'), port)
  writeFileSync(join(folder, 'job.ts'), `import { col } from 'tessera'
import { RemoteTessera } from 'tessera/client'
export default async function (db, args) {
  if (!(db instanceof RemoteTessera)) throw new Error('db is not the running client')
  const t = await db.createTable('jobbed', { id: 'int', text: 'string' })
  await t.insert([{ id: 1, text: args[0] }])
  console.log('rows', (await t.where(col('id').eq(1)).select('text').collect()).rows[0].text)
}
`)
  const r = await cliIn(folder, ['run', 'job.ts', '--url', `http://127.0.0.1:${port}`, 'hello'])
  expect(r.stderr).toBe('')
  expect(r.stdout).toContain('rows hello')
  expect(r.code).toBe(0)
  expect(existsSync(join(folder, 'node_modules'))).toBe(false)
}, 120_000)
