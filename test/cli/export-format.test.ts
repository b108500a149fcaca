import { expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// `tessera export` with a format it cannot write (from --format or the file's extension) is wrong usage: exit 2 with
// the usage line, before the data dir is opened. It used to open the store and exit 1 with the library's error.

setDefaultTimeout(120_000)

const folder = tempDir('tessera-cli-export-format-')
const home = join(folder, 'data')
const CLEAN = { TESSERA_DATABASE_URL: '', TESSERA_MEDIA_DIR: '', TESSERA_MEDIA_STORE: '', TESSERA_URL: '', TESSERA_TOKEN: '' }
const cli = (...args: string[]) => cliIn(folder, [...args, '--home', home], { env: CLEAN })

test('an unknown --format or extension is a usage error (exit 2), before the data dir is opened', async () => {
  const byExtension = await cli('export', 'a/t', 'out.xyz')
  expect(byExtension.code).toBe(2)
  expect(byExtension.stderr).toContain(`cannot tell the export format of 'out.xyz'`)
  expect(byExtension.stderr).toContain('usage: tessera export')

  for (const bad of ['xyz', 'CSV', 'constructor']) {
    const r = await cli('export', 'a/t', 'out.csv', '--format', bad)
    expect({ bad, code: r.code }).toEqual({ bad, code: 2 })
    expect(r.stderr).toContain(`unknown --format '${bad}'; use one of jsonl, csv, parquet`)
    expect(r.stderr).toContain('usage: tessera export')
  }
  // --format names the format of a file whose extension says none.
  const named = await cli('export', 'a/t', 'out.xyz', '--format', 'nope')
  expect(named.code).toBe(2)
  expect(existsSync(home)).toBe(false)
})

test('a known format still reaches the store (a missing data dir is exit 1, not usage)', async () => {
  for (const args of [['out.csv'], ['out.ndjson'], ['out.pq'], ['out.xyz', '--format', 'jsonl']]) {
    const r = await cli('export', 'a/t', ...args)
    expect({ args, code: r.code, usage: r.stderr.includes('usage:') }).toEqual({ args, code: 1, usage: false })
  }
})
