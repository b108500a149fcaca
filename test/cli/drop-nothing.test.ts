import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { killServers, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// `tessera drop app/old_docs` where nothing is said "directory 'app/old_docs' does not exist", as if a table could not
// be at that path (the command falls back to dropping a dir when no table is there). It says what mv says now.

const folder = tempDir('tessera-cli-drop-nothing-')
const home = join(folder, 'data')
const cli = (...args: string[]) => cliIn(folder, args, { env: { TESSERA_URL: '', TESSERA_TOKEN: '' } })
afterAll(killServers)

beforeAll(async () => {
  const db = await Tessera.open({ home })
  await db.createDir('app')
  await db.close()
}, 60_000)

test('a path where nothing is: named as no table, view, snapshot or directory, on a data dir and over --url', async () => {
  for (const path of ['app/old_docs', 'nope/x']) {
    const r = await cli('drop', path, '--home', home)
    expect(r.stderr).toBe(`error: nothing to drop at '${path}': no table, view, snapshot or directory has that path\n`)
    expect(r.code).toBe(1)
  }
  const port = 20000 + Math.floor(Math.random() * 20000)
  await startServe(home, port, '--auth', 'none')
  const r = await cli('drop', 'app/old_docs', '--url', `http://127.0.0.1:${port}`)
  expect(r.stderr).toBe("error: nothing to drop at 'app/old_docs': no table, view, snapshot or directory has that path\n")
  expect(r.code).toBe(1)
}, 120_000)
