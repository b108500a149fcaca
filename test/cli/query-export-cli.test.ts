import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// `tessera query --csv/--jsonl` wrote its own CSV (null and "" alike, JSON strings and padded text unquoted) from
// a fully collected result; it now streams export's writer, so its output is `tessera export`'s. `tessera export
// --media copy` left media:// refs (uploaded bytes) uncopied, and into a missing folder it left the copies behind.

const folder = tempDir('tessera-cli-query-export-')
const home = join(folder, 'data')
const cli = (...args: string[]) => cliIn(folder, [...args, '--home', home])
let png: Uint8Array

beforeAll(async () => {
  png = new Uint8Array(await sharp({ create: { width: 3, height: 2, channels: 3, background: '#0af' } }).png().toBuffer())
  const db = await Tessera.open({ home })
  const t = await db.createTable('cells', { id: 'int', s: 'string?', j: 'json?' })
  await t.insert([
    { id: 1, s: null, j: null },
    { id: 2, s: '', j: 'text' },
    { id: 3, s: ' padded ', j: { a: [1, 'x'] } },
    { id: 4, s: 'a,"b"', j: 2 },
  ])
  const p = await db.createTable('photos', { id: 'int', photo: 'image' })
  await p.insert([{ id: 1, photo: png }])
  await db.close()
}, 60_000)
afterAll(() => undefined)

test('query --csv and --jsonl write what export writes', async () => {
  const csv = await cli('query', 'cells', '{"orderBy": [{"expr": {"col": "id"}}]}', '--csv')
  expect(csv.code).toBe(0)
  expect(csv.stdout).toBe('id,s,j\n1,,\n2,"","""text"""\n3," padded ","{""a"":[1,""x""]}"\n4,"a,""b""",2\n')
  expect((await cli('export', 'cells', 'cells.csv', '--query', '{"orderBy": [{"expr": {"col": "id"}}]}')).code).toBe(0)
  expect(csv.stdout).toBe(readFileSync(join(folder, 'cells.csv'), 'utf8'))
  const jsonl = await cli('query', 'cells', '{"orderBy": [{"expr": {"col": "id"}}]}', '--jsonl', '--limit', '2')
  expect(jsonl.code).toBe(0)
  expect(jsonl.stdout).toBe('{"id":1,"s":null,"j":null}\n{"id":2,"s":"","j":"text"}\n')
}, 60_000)

test('export --media copy copies media:// refs, and the export imports into another data dir', async () => {
  mkdirSync(join(folder, 'out'))
  const r = await cli('export', 'photos', 'out/p.jsonl', '--media', 'copy')
  expect(r.code).toBe(0)
  expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ mediaCopied: 1, mediaNotCopied: 0 })
  const cell = JSON.parse(readFileSync(join(folder, 'out/p.jsonl'), 'utf8').trim()).photo as string
  expect(cell).toMatch(/^p_media\/photo\/[0-9a-f]{64}\.png$/)
  expect(new Uint8Array(readFileSync(join(folder, 'out', cell)))).toEqual(new Uint8Array(png))
  const other = await cliIn(folder, ['import', 'out/p.jsonl', 'photos', '--type', 'photo:image', '--home', join(folder, 'data2')])
  expect(other.code).toBe(0)
  expect(JSON.parse(other.stdout.trim().split('\n').at(-1)!)).toMatchObject({ rowsInserted: 1 })
}, 60_000)

test('export --media copy into a folder that does not exist fails naming it and leaves nothing behind', async () => {
  const r = await cli('export', 'photos', 'nowhere/p.jsonl', '--media', 'copy')
  expect(r.code).toBe(1)
  expect(r.stderr).toContain("folder '")
  expect(r.stderr).toContain("nowhere' does not exist")
  expect(existsSync(join(folder, 'nowhere'))).toBe(false)
  expect(readdirSync(folder).sort()).not.toContain('nowhere')
}, 60_000)
