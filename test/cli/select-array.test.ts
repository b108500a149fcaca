import { beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { JsonQuerySchema } from '../../src/api/json-query.ts'
import { UpdateRequestSchema } from '../../src/api/requests.ts'
import { Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// A query's select of bare expressions ('{"select": [{"col": "name"}]}', an easy slip for [{"name": ..., "expr": ...}])
// was read as the {"name": expr} form, valibot's record taking the array as an object keyed '0', '1', ...: `tessera
// query` answered, and `tessera export --query` wrote, one column named '0' with exit 0. Refused now, naming the part.

const folder = tempDir('tessera-cli-select-array-')
const home = join(folder, 'data')
const cli = (...args: string[]) => cliIn(folder, [...args, '--home', home])

beforeAll(async () => {
  const db = await Tessera.open({ home })
  const t = await db.createTable('people', { id: 'int', name: 'string' })
  await t.insert([{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }])
  await db.close()
}, 60_000)

test('a select of bare expressions is refused by query and export, naming select[0], and nothing is written', async () => {
  const body = '{"select": [{"col": "name"}]}'
  const q = await cli('query', 'people', body, '--csv')
  expect(q.stdout).toBe('')
  expect(q.stderr).toContain('select[0]')
  expect(q.code).toBe(1)
  const e = await cli('export', 'people', 'out.csv', '--query', body)
  expect(e.stderr).toContain('select[0]')
  expect(e.code).toBe(1)
  expect(existsSync(join(folder, 'out.csv'))).toBe(false)
  // The two forms it takes still answer.
  expect((await cli('query', 'people', '{"select": {"n": {"col": "name"}}}', '--csv')).stdout).toBe('n\nann\nbob\n')
  expect((await cli('query', 'people', '{"select": [{"name": "n", "expr": {"col": "name"}}]}', '--csv')).stdout).toBe('n\nann\nbob\n')
}, 60_000)

test('other records keyed by name refuse an array too (update values)', () => {
  expect(v.safeParse(JsonQuerySchema, { table: 't', select: [{ col: 'name' }] }).success).toBe(false)
  const r = v.safeParse(UpdateRequestSchema, { values: [5] })
  expect(r.success).toBe(false)
  expect(r.issues?.[0]?.message).toBe('expected an object keyed by column name, got an array')
})
