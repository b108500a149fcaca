import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import { BIN, killServers, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'
import { cliIn } from './run-in.ts'

// The database CLI (dirs, ls, describe, query, history, revert, mkdir, mv, drop, check, token) on a data dir and on
// a running server, the --json forms, and the one-line errors with their exit codes.

afterAll(killServers)

const folder = tempDir('tessera-cli-')
const cli = (...args: string[]) => cliIn(folder, args)
const ok = async (...args: string[]) => {
  const r = await cli(...args)
  if (r.code !== 0) throw new Error(`tessera ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

describe('on a data dir (--home)', () => {
  const home = join(folder, 'data')
  test('import -p into a fresh dir, then ls, dirs, describe, query, history, revert', async () => {
    writeFileSync(join(folder, 'people.csv'), 'id,name,age\n1,ann,31\n2,bob,17\n3,cyd,45\n')
    const refused = await cli('import', 'people.csv', 'app/people', '--home', home)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('pass --parents (-p)')
    await ok('import', 'people.csv', 'app/people', '--primary-key', 'id', '-p', '--home', home)

    expect(await ok('ls', '--home', home)).toBe('app/\n')
    expect(JSON.parse(await ok('ls', '-r', '-l', '--json', '--home', home))).toEqual([
      { path: 'app', type: 'dir' },
      { path: 'app/people', type: 'table', version: 1, rows: 3, columns: 3, readOnly: false },
    ])
    expect(JSON.parse(await ok('dirs', '--json', '--home', home))).toEqual(['app'])

    const described = JSON.parse(await ok('describe', 'app/people', '--json', '--home', home))
    expect(described).toMatchObject({ path: 'app/people', version: 1, rows: 3, primaryKey: ['id'] })
    expect(described.columns.map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual(['id int', 'name string', 'age int'])
    expect(await ok('describe', 'app/people', '--home', home)).toContain('app/people  version 1, 3 rows, primary key (id)')

    const adults = '{"where": {"fn": "ge", "args": [{"col": "age"}, {"lit": 18}]}, "orderBy": [{"expr": {"col": "id"}, "desc": true}]}'
    expect(await ok('query', 'app/people', adults, '--csv', '--home', home)).toBe('id,name,age\n3,cyd,45\n1,ann,31\n')
    expect(JSON.parse(await ok('query', 'app/people', '--json', '--limit', '1', '--home', home)).rows).toEqual([{ id: 1, name: 'ann', age: 31 }])
    expect(await ok('query', 'app/people', adults, '--count', '--home', home)).toBe('2\n')
    const table = await ok('query', 'app/people', '--limit', '2', '--home', home)
    expect(table).toContain('ann')
    expect(table).not.toContain('cyd')
    expect(table).toContain('(2 rows; more match')
    expect((await ok('query', 'app/people', '--jsonl', '--home', home)).trim().split('\n').map((l) => JSON.parse(l).name)).toEqual(['ann', 'bob', 'cyd'])

    const history = JSON.parse(await ok('history', 'app/people', '--json', '--home', home))
    expect(history.map((v: { version: number; kind: string }) => [v.version, v.kind])).toEqual([[1, 'insert'], [0, 'create']])
    expect(await ok('revert', 'app/people', '--home', home)).toBe('reverted app/people: now at version 0\n')
    expect(await ok('query', 'app/people', '--count', '--home', home)).toBe('0\n')
  }, 120_000)

  test('mkdir -p, mv, drop, check --json', async () => {
    expect(await ok('mkdir', '-p', 'a/b/c', '--home', home)).toBe('created dir a/b/c\n')
    expect(await ok('mkdir', '-p', 'a/b/c', '--home', home)).toBe('dir a/b/c exists already\n')
    expect((await cli('mkdir', 'a', '--home', home)).code).toBe(1)
    await ok('mv', 'app/people', 'a/b/people', '--home', home)
    expect(await ok('ls', '-r', '--home', home)).toBe('a/\na/b/\na/b/c/\na/b/people\napp/\n')
    const notEmpty = await cli('drop', 'a', '--home', home)
    expect(notEmpty.code).toBe(1)
    expect(notEmpty.stderr).toStartWith('error: ')
    expect(notEmpty.stderr.trim().split('\n')).toHaveLength(1)
    expect(await ok('drop', 'a/b/people', '--home', home)).toBe('dropped table a/b/people\n')
    expect(await ok('drop', 'a', '--force', '--home', home)).toBe('dropped dir a\n')
    expect((await cli('drop', 'a', '--home', home)).code).toBe(1)
    expect((await cli('drop', 'a', '--if-exists', '--home', home)).code).toBe(0)
    expect(JSON.parse(await ok('check', '--json', '--home', home))).toMatchObject({ tables: 0, problems: [], repaired: [], media: { files: 0, orphans: 0, missing: [] } })
  }, 120_000)
})

describe('on a running server (--url, --token)', () => {
  test('the same commands, check and token over HTTP, backup --url with media files', async () => {
    const home = join(folder, 'served')
    const admin = 'cli-test-admin-token-0123456789'
    // A token must exist before serve starts to make auth required.
    const created = await cli('token', 'create', 'boot', '--admin', '--home', home)
    expect(created.code).toBe(0)
    const boot = created.stdout.trim()
    const port = 20000 + Math.floor(Math.random() * 20000)
    await startServe(home, port)
    const url = `http://127.0.0.1:${port}`
    const remote = ['--url', url, '--token', boot]

    const made = await cli('token', 'create', 'ci', '--admin', ...remote)
    expect(made.code).toBe(0)
    const list = JSON.parse(await ok('token', 'list', '--json', ...remote))
    expect(list.map((t: { name: string }) => t.name).sort()).toEqual(['boot', 'ci'])
    expect(await ok('token', 'revoke', 'ci', ...remote)).toBe('revoked ci\n')
    const noToken = await cli('ls', '--url', url)
    expect(noToken.code).toBe(1)
    expect(noToken.stderr).toContain('--token')

    await ok('mkdir', 'media_app', ...remote)
    const db = connect(url, { token: boot })
    const photos = await db.createTable('media_app/files', { id: 'int', doc: 'document' })
    await photos.insert([{ id: 1, doc: new TextEncoder().encode('# a stored document\n') }])
    expect(await ok('ls', 'media_app', ...remote)).toBe('media_app/files\n')
    expect(JSON.parse(await ok('describe', 'media_app/files', '--json', ...remote))).toMatchObject({ rows: 1, version: 1 })
    expect(await ok('query', 'media_app/files', '{"select": {"id": {"col": "id"}}}', '--csv', ...remote)).toBe('id\n1\n')
    expect(JSON.parse(await ok('history', 'media_app/files', '--json', ...remote))[0].version).toBe(1)
    expect(await ok('check', ...remote)).toContain('ok: 1 tables consistent')

    const backup = join(folder, 'backup-remote')
    expect(await ok('backup', backup, ...remote)).toContain('1 media files')
    const media = readdirSync(join(backup, 'media'), { recursive: true }).map(String).filter((f) => /[0-9a-f]{64}/.test(f))
    expect(media).toHaveLength(1)
    const restored = join(folder, 'restored')
    expect((await cli('restore', backup, '--home', restored)).code).toBe(0)
    expect(await ok('query', 'media_app/files', '--count', '--home', restored)).toBe('1\n')
    expect(existsSync(join(restored, 'media', media[0]!))).toBe(true)

    expect(await ok('revert', 'media_app/files', ...remote)).toContain('now at version 0')
    expect(await ok('mv', 'media_app/files', 'media_app/docs', ...remote)).toContain('moved')
    expect(await ok('drop', 'media_app', '--force', ...remote)).toBe('dropped dir media_app\n')
    expect(await ok('dirs', ...remote)).toBe('')
  }, 180_000)
})

describe('errors: one line with the fix, documented exit codes', () => {
  test.each([
    [['query', 'x', '{bad', '--home', join(folder, 'e1')], 2, 'is not valid JSON'],
    [['ls', '--url', 'http://127.0.0.1:1'], 4, 'connection refused'],
    [['serve', '--port', 'abc', '--home', join(folder, 'e2')], 2, '--port must be a whole number'],
    [['ls', '--home', BIN], 2, 'is a file, not a directory'],
    [['frobnicate'], 2, "unknown command 'frobnicate'"],
    [['ls', '--bogus'], 2, "Unknown option '--bogus'"],
    [['describe', 'nope/missing', '--home', join(folder, 'e3')], 1, 'e3 (--home) does not exist'],
    [['completion', 'tcsh'], 2, 'bash, zsh or fish'],
  ])('tessera %p → exit %p', async (args, code, message) => {
    const r = await cli(...args)
    expect(r.stderr).toContain(message)
    expect(r.stderr).not.toContain('    at ')
    expect(r.code).toBe(code)
  }, 60_000)

  test('port in use', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000)
    const blocker = Bun.serve({ port, hostname: '127.0.0.1', fetch: () => new Response('busy') })
    try {
      const r = await cli('serve', '--port', String(port), '--home', join(folder, 'e4'))
      expect(r.stderr).toContain(`port ${port} is already in use`)
      expect(r.stderr).not.toContain('    at ')
      expect(r.code).toBe(1)
    } finally {
      blocker.stop(true)
    }
  }, 60_000)

  test('tessera help | head -1: no EPIPE error', async () => {
    const p = Bun.spawn(['bash', '-c', `set -o pipefail; "${process.execPath}" "${BIN}" help | head -1`], { stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    expect(stdout).toStartWith('tessera ')
    expect(stderr).toBe('')
    expect(code).toBe(0)
  }, 60_000)

  test('every command has full help with examples; completion scripts are valid shell', async () => {
    const list = await ok('help')
    const names = [...list.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]!)
    expect(names).toEqual(expect.arrayContaining(['dirs', 'ls', 'describe', 'query', 'history', 'revert', 'drop', 'mv', 'mkdir', 'completion']))
    for (const name of names) {
      const help = await ok(name, '--help')
      expect(help).toStartWith(`usage: tessera ${name}`)
      expect(help).toContain('examples:')
    }
    const bash = await ok('completion', 'bash')
    expect(bash).toContain('complete -o filenames -F _tessera tessera')
    const syntax = Bun.spawnSync(['bash', '-n'], { stdin: new TextEncoder().encode(bash) })
    expect(syntax.exitCode).toBe(0)
    expect(await ok('completion', 'zsh')).toContain('#compdef tessera')
    expect(await ok('completion', 'fish')).toContain("complete -c tessera -n '__fish_use_subcommand' -a query")
  }, 180_000)
})
