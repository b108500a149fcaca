import { beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// What an exploratory test of the CLI found: a failed restore that left a database behind, a report file found
// unwritable after the import committed, head/tail refused by `query`, errors worded wrongly, read-only commands
// creating a data dir at a mistyped --home, and misleading output.

setDefaultTimeout(180_000)

const folder = tempDir('tessera-cli-fixes-')
const CLEAN = { TESSERA_DATABASE_URL: '', TESSERA_MEDIA_DIR: '', TESSERA_MEDIA_STORE: '', TESSERA_URL: '', TESSERA_TOKEN: '' }
const cli = (...args: string[]) => cliIn(folder, args, { env: CLEAN })
const ok = async (...args: string[]) => {
  const r = await cli(...args)
  if (r.code !== 0) throw new Error(`tessera ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

const home = join(folder, 'data')
beforeAll(async () => {
  writeFileSync(join(folder, 'people.csv'), 'id,name\n1,ann\n2,bob\n3,cyd\n4,dan\n5,eve\n')
  await ok('import', 'people.csv', 'app/people', '--primary-key', 'id', '-p', '--home', home)
})

describe('restore of a damaged backup', () => {
  test('a truncated or garbage pgdata.tar.gz is refused as damaged, naming the file, and leaves nothing behind', async () => {
    const good = join(folder, 'good-backup')
    await ok('backup', good, '--home', home)
    const whole = readFileSync(join(good, 'pgdata.tar.gz'))
    for (const [name, bytes] of [['truncated', whole.subarray(0, Math.floor(whole.length / 2))], ['garbage', new TextEncoder().encode('not a backup at all')], ['not-a-database', gzipSync('a whole gzip, but no database in it')]] as const) {
      const bad = join(folder, `${name}-backup`)
      mkdirSync(bad)
      writeFileSync(join(bad, 'pgdata.tar.gz'), bytes)
      const target = join(folder, `${name}-restored`)
      const r = await cli('restore', bad, '--home', target)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('the backup is damaged')
      expect(r.stderr).toContain(join(bad, 'pgdata.tar.gz'))
      expect(existsSync(target)).toBe(false)
      // The next restore, of a good backup, into the same place works.
      expect((await cli('restore', good, '--home', target)).code).toBe(0)
    }
  })

  test('a failed restore into an existing empty folder leaves the folder as it was', async () => {
    const bad = join(folder, 'garbage2-backup')
    mkdirSync(bad)
    writeFileSync(join(bad, 'pgdata.tar.gz'), new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]))
    const target = join(folder, 'empty-target')
    mkdirSync(target)
    expect((await cli('restore', bad, '--home', target)).code).toBe(1)
    expect(existsSync(join(target, 'pgdata'))).toBe(false)
    expect((await cli('ls', '--home', target)).code).toBe(1) // not a data dir: no empty database was left
  })
})

describe('import --report', () => {
  test('an unwritable report fails before anything is imported, in one line', async () => {
    writeFileSync(join(folder, 'bad.csv'), 'id,name\n10,x\nnope,y\n')
    const r = await cli('import', 'bad.csv', 'app/people', '--skip-bad-rows', '--report', '/nonexistent/r.jsonl', '--home', home)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('cannot write the report file /nonexistent/r.jsonl')
    expect(r.stderr).toContain('nothing was imported')
    expect(r.stderr).not.toContain('    at ')
    expect((await ok('query', 'app/people', '--count', '--home', home)).trim()).toBe('5')
  })

  test('--skip-bad-rows without --report names the first skipped rows on stderr (it said how many, not why)', async () => {
    const rows = ['id,name', '20,ok', ...Array.from({ length: 7 }, (_, i) => `bad${i},x`)].join('\n')
    writeFileSync(join(folder, 'some-bad.csv'), `${rows}\n`)
    const r = await cli('import', 'some-bad.csv', 'app/skips', '--type', 'id:int', '--skip-bad-rows', '--home', home)
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('7 skipped')
    expect(r.stderr).toContain("  skipped line 3, column 'id': ")
    expect(r.stderr).toContain('  … 2 more; --report FILE lists every skipped row')
    expect(r.stderr).not.toContain('skipped line 8')
  })

  test('--report without --skip-bad-rows, and --type for a column the input lacks, are refused naming the flag', async () => {
    const report = await cli('import', 'people.csv', 'app/other', '--report', join(folder, 'r.jsonl'), '--home', home)
    expect(report.code).toBe(2)
    expect(report.stderr).toContain('--skip-bad-rows')
    const type = await cli('import', 'people.csv', 'app/other', '--type', 'nocol:int', '--home', home)
    expect(type.code).toBe(1)
    expect(type.stderr).toContain("--type nocol:int: people.csv has no column 'nocol'")
    expect((await cli('ls', 'app', '--home', home)).stdout).not.toContain('app/other')
  })
})

describe('query', () => {
  test('takes "head" and "tail" as POST /api/v1/query does', async () => {
    const tail = JSON.parse(await ok('query', 'app/people', '{"tail": 2}', '--json', '--home', home))
    expect(tail.rows.map((r: { id: number }) => r.id)).toEqual([4, 5])
    const head = await ok('query', 'app/people', '{"head": 1}', '--home', home)
    expect(head).toContain('ann')
    expect(head).not.toContain('bob')
    const both = await cli('query', 'app/people', '{"head": 1, "tail": 1}', '--home', home)
    expect(both.code).toBe(2)
  })
})

describe('error messages', () => {
  test('a glob with an unclosed { is refused naming the pattern, not as invalid JSON', async () => {
    mkdirSync(join(folder, 'imgs'), { recursive: true })
    const r = await cli('import', 'imgs', 'app/imgs', '--glob', '*.{png', '--home', home)
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('invalid JSON')
    expect(r.stderr).toContain("glob '*.{png'")
  })

  test('a setup file throwing a non-Error says what it threw', async () => {
    writeFileSync(join(folder, 'weird.ts'), `import { defineSetup } from 'tessera'
export default defineSetup(async () => { throw { weird: 1 } })
`)
    const r = await cli('apply', 'weird.ts', '--home', home)
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('[object Object]')
    expect(r.stderr).toContain('{"weird":1}')
  })
})

describe('a mistyped --home', () => {
  test('read-only commands say it does not exist instead of creating an empty data dir', async () => {
    const typo = join(folder, 'typo')
    for (const args of [['check'], ['ls'], ['gc', '--dry-run'], ['apply', 'weird.ts', '--plan'], ['query', 'app/people'], ['export', 'app/people', 'out.csv']]) {
      const r = await cli(...args, '--home', typo)
      expect({ args, code: r.code }).toEqual({ args, code: 1 })
      expect(r.stderr).toContain(`data dir ${typo} (--home) does not exist`)
      expect(existsSync(typo)).toBe(false)
    }
  })
})

describe('what the output says', () => {
  test('drop --if-exists of nothing, dropping a snapshot, ls -l of views and snapshots, history TABLE:N, library option names', async () => {
    const dir = join(folder, 'kinds')
    const db = await Tessera.open({ home: dir })
    try {
      const t = await db.createTable('t', { id: 'int' })
      await t.insert([{ id: 1 }])
      await t.insert([{ id: 2 }])
      await db.createSnapshot('snap', t)
      await db.createView('v', t, { where: t.c.id.gt(1) })
      await db.createDir('full')
      await db.createTable('full/x', { id: 'int' })
    } finally {
      await db.close()
    }
    const nothing = await cli('drop', 'app/nope', '--if-exists', '--home', dir)
    expect(nothing.code).toBe(0)
    expect(nothing.stdout).toContain('app/nope does not exist: nothing dropped')

    const long = JSON.parse(await ok('ls', '-l', '--json', '--home', dir)) as { path: string; type: string; version?: number }[]
    expect(long.find((e) => e.path === 'snap')).toMatchObject({ type: 'snapshot', version: 2 })
    expect(long.find((e) => e.path === 'v')).toMatchObject({ type: 'view' })
    expect(long.find((e) => e.path === 't')).toMatchObject({ type: 'table', version: 2 })

    expect(await ok('ls', 't', '--home', dir)).toBe('t\n')
    const history = await cli('history', 't:1', '--home', dir)
    expect(history.code).toBe(2)
    expect(history.stderr).toContain("without ':1'")

    const notEmpty = await cli('drop', 'full', '--home', dir)
    expect(notEmpty.code).toBe(1)
    expect(notEmpty.stderr).toContain('--force')
    expect(notEmpty.stderr).not.toContain('force: true')
    const exists = await cli('mkdir', 'full', '--home', dir)
    expect(exists.stderr).toContain('mkdir -p')
    expect(exists.stderr).not.toContain('ifExists')

    expect((await ok('drop', 'snap', '--home', dir))).toContain('dropped snapshot snap')
    expect((await ok('drop', 'v', '--home', dir))).toContain('dropped view v')
  })
})

describe('arguments and targets a command does not take', () => {
  test('a word past the arguments a command takes is refused by name with the usage line (exit 2)', async () => {
    const good = join(folder, 'args-backup')
    await ok('backup', good, '--home', home)
    for (const [args, word, takes] of [
      [['restore', good, 'extra', '--home', join(folder, 'args-restored')], 'extra', 'one argument'],
      [['ls', 'app', 'more', '--home', home], 'more', 'one argument'],
      [['check', 'app', '--home', home], 'app', 'no arguments'],
      [['mv', 'app/people', 'app/p2', 'app/p3', '--home', home], 'app/p3', '2 arguments'],
      [['export', 'app/people', join(folder, 'p.csv'), 'p2.csv', '--home', home], 'p2.csv', '2 arguments'],
      [['import', 'people.csv', 'app/people2', 'app/people3', '--home', home], 'app/people3', '2 arguments'],
    ] as const) {
      const r = await cli(...args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`unexpected argument '${word}': 'tessera ${args[0]}' takes ${takes}`)
      expect(r.stderr).toContain('usage: tessera ')
    }
    expect(existsSync(join(folder, 'args-restored'))).toBe(false)
    expect(await ok('ls', 'app', '--home', home)).toContain('people')
  })

  test('restore refuses a data dir inside the backup folder; backup refuses --home beside --url', async () => {
    const good = join(folder, 'self-backup')
    await ok('backup', good, '--home', home)
    for (const target of [good, join(good, 'data')]) {
      const r = await cli('restore', good, '--home', target)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('is inside the backup folder')
      expect(existsSync(join(good, 'pgdata'))).toBe(false)
      expect(existsSync(join(good, 'data'))).toBe(false)
    }
    const r = await cli('backup', join(folder, 'url-backup'), '--url', 'http://127.0.0.1:9', '--home', home)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('pass either --home (a data dir) or --url (a server), not both')
    expect(existsSync(join(folder, 'url-backup'))).toBe(false)
    // Every command that may talk to a server refuses the pair the same way (token used the URL silently too).
    const tokens = await cli('token', 'list', '--url', 'http://127.0.0.1:9', '--home', home)
    expect(tokens.code).toBe(2)
    expect(tokens.stderr).toContain('pass either --home (a data dir) or --url (a server), not both')
  })
})
