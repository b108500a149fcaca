import { expect, test } from 'bun:test'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// `tessera import --format`: the names its help lists are the names it takes, and any other is wrong usage (exit 2,
// naming the accepted ones) before the data dir is touched; an unknown name used to import the file as CSV.

const folder = tempDir('tessera-cli-format-')
const home = join(folder, 'data')
const cli = (...args: string[]) => cliIn(folder, [...args, '--home', home])

test('--format: an unknown name is exit 2 naming the accepted ones; folder (or media) imports a folder', async () => {
  writeFileSync(join(folder, 'people.csv'), 'id,name\n1,ann\n')
  mkdirSync(join(folder, 'imgs'))
  // An image of its own (the test once copied one another test file writes, and failed when run alone).
  writeFileSync(join(folder, 'imgs', 'chat.png'), await sharp({ create: { width: 3, height: 2, channels: 3, background: '#0af' } }).png().toBuffer())

  const help = await cli('import', '--help')
  const listed = /--format F\s+([a-z|]+)/.exec(help.stdout)?.[1]?.split('|')
  expect(listed).toEqual(['csv', 'tsv', 'json', 'jsonl', 'parquet', 'folder'])

  for (const bad of ['xml', 'constructor', 'CSV']) {
    const r = await cli('import', 'people.csv', `app/t_${bad}`, '-p', '--format', bad)
    expect({ bad, code: r.code }).toEqual({ bad, code: 2 })
    expect(r.stderr).toContain(`unknown --format '${bad}'; use one of csv, tsv, json, jsonl, parquet, folder, media`)
  }
  // Refused before the data dir is opened (or created).
  expect(existsSync(home)).toBe(false)

  for (const format of listed!.filter((f) => f !== 'folder' && f !== 'csv')) {
    // Every listed name reaches its reader: a CSV file read as one of the others fails there (exit 1), not as usage.
    const r = await cli('import', 'people.csv', `app/t_${format}`, '-p', '--format', format)
    expect({ format, code: r.code, usage: r.stderr.includes('unknown --format') }).toEqual({ format, code: 1, usage: false })
  }
  expect((await cli('import', 'people.csv', 'app/people', '-p', '--format', 'csv')).code).toBe(0)
  for (const [format, table] of [['folder', 'app/imgs'], ['media', 'app/imgs2']]) {
    const r = await cli('import', 'imgs', table!, '-p', '--format', format!)
    expect({ format, code: r.code, stderr: r.stderr }).toEqual({ format, code: 0, stderr: expect.any(String) })
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ table, rowsInserted: 1, created: true })
  }
}, 120_000)
