import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { killServers, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// `tessera query TABLE '{"count": true}'` (the JSON of POST /api/v1/query, which answers the count for it) showed
// the rows on a data dir, and against a server failed with "undefined is not an object (evaluating
// 'answer.columns.map')": the server answered {"count": n}, which the table display could not read. It is --count now.

const folder = tempDir('tessera-cli-query-count-')
const home = join(folder, 'data')
const cli = (...args: string[]) => cliIn(folder, args, { env: { TESSERA_URL: '', TESSERA_TOKEN: '' } })
afterAll(killServers)

beforeAll(async () => {
  const db = await Tessera.open({ home })
  const t = await db.createTable('people', { id: 'int' })
  await t.insert([{ id: 1 }, { id: 2 }, { id: 3 }])
  await db.close()
}, 60_000)

test('"count": true counts, on a data dir and against a server; a count that is not a boolean is a usage error', async () => {
  const body = '{"count": true, "where": {"fn": "gt", "args": [{"col": "id"}, {"lit": 1}]}}'
  for (const format of [[], ['--jsonl']]) {
    const local = await cli('query', 'people', body, ...format, '--home', home)
    expect(local.stdout).toBe('2\n')
    expect(local.code).toBe(0)
  }
  const bad = await cli('query', 'people', '{"count": 1}', '--home', home)
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain('"count" must be true or false, got 1')

  const port = 20000 + Math.floor(Math.random() * 20000)
  await startServe(home, port, '--auth', 'none')
  const remote = await cli('query', 'people', body, '--url', `http://127.0.0.1:${port}`)
  expect(remote.stderr).toBe('')
  expect(remote.stdout).toBe('2\n')
  expect(remote.code).toBe(0)
}, 120_000)
