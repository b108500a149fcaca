import { beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// Flags of `tessera import` / `export` that were ignored without a word: a repeated one kept its last value, an
// empty one was taken, --media took any word, and --primary-key / --type did nothing into an existing table.

setDefaultTimeout(180_000)

const folder = tempDir('tessera-cli-ioflags-')
const CLEAN = { TESSERA_DATABASE_URL: '', TESSERA_MEDIA_DIR: '', TESSERA_MEDIA_STORE: '', TESSERA_URL: '', TESSERA_TOKEN: '' }
const home = join(folder, 'data')
const cli = (...args: string[]) => cliIn(folder, [...args, '--home', home], { env: CLEAN })

beforeAll(async () => {
  writeFileSync(join(folder, 'p.csv'), 'id,v\n1,a\n2,b\n')
  const r = await cli('import', 'p.csv', 'a/t', '-p')
  expect(r.code).toBe(0)
})

test('a flag given twice, an empty --primary-key and a --type without a type are usage errors', async () => {
  const twice = await cli('import', 'p.csv', 'a/u', '--primary-key', 'id', '--primary-key', 'v')
  expect([twice.code, twice.stderr]).toEqual([2, expect.stringContaining('--primary-key was given twice')])
  const empty = await cli('import', 'p.csv', 'a/u', '--primary-key', '')
  expect([empty.code, empty.stderr]).toEqual([2, expect.stringContaining('--primary-key takes column names')])
  const noType = await cli('import', 'p.csv', 'a/u', '--type', 'id:')
  expect([noType.code, noType.stderr]).toEqual([2, expect.stringContaining(`--type takes column:type, got 'id:'`)])
})

test('--primary-key and --type into an existing table that has other ones fail, naming the difference', async () => {
  const r = await cli('import', 'p.csv', 'a/t', '--primary-key', 'id', '--type', 'v:int')
  expect(r.code).toBe(1)
  expect(r.stderr).toContain(`primary key (id) was given, but 'a/t' exists and has no primary key`)
  const t = await cli('import', 'p.csv', 'a/t', '--type', 'v:int')
  expect(t.code).toBe(1)
  expect(t.stderr).toContain(`--type v:int: `)
  expect(t.stderr).toContain(`'v' of type 'string'`)
})

test('export --media takes copy (or path), nothing else', async () => {
  const r = await cli('export', 'a/t', join(folder, 'out.csv'), '--media', 'bogus')
  expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`--media takes copy`)])
})

test('--sample-size: the error of a record past the sample names it; with a larger sample the import infers float', async () => {
  const rows = Array.from({ length: 1500 }, (_, i) => `${i},${i}`).join('\n')
  writeFileSync(join(folder, 'late.csv'), `id,v\n${rows}\n1500,1.5\n`)
  const short = await cli('import', 'late.csv', 'a/late')
  expect(short.code).toBe(1)
  expect(short.stderr).toContain(`the type int of 'v' was inferred from the first 1000 records`)
  const long = await cli('import', 'late.csv', 'a/late', '--sample-size', '2000')
  expect([long.code, long.stderr]).toEqual([0, expect.stringContaining('v float')])
})
