import { afterAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN, killServers, runCli, startServe } from '../support/cli.ts'
import { Tessera } from '../../src/index.ts'
import { templateBlob, tempDir } from '../support/db.ts'

// `tessera serve` with a bad setting: a number or duration it cannot read is wrong usage (exit 2, before the data dir
// is opened), as README's exit-code table says, whether it came from a flag or from the environment; a database
// server it cannot reach is named (password hidden), not mistaken for a `--url` server. And a declared route that
// throws something that is not an Error leaves the server to stop cleanly (exit 0) on SIGTERM.

afterAll(killServers)

const serveWith = async (args: string[], env: Record<string, string> = {}) => {
  const home = join(tempDir(), 'data')
  const p = Bun.spawn([process.execPath, BIN, 'serve', '--home', home, '--port', '0', ...args], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...env } })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}

for (const [flag, env] of [['--drain-timeout', 'TESSERA_DRAIN_TIMEOUT'], ['--compact-every', 'TESSERA_COMPACT_EVERY'], ['--max-body-bytes', 'TESSERA_MAX_BODY_BYTES'], ['--max-insert-rows', 'TESSERA_MAX_INSERT_ROWS'], ['--max-answer-rows', 'TESSERA_MAX_ANSWER_ROWS']]) {
  test(`serve ${flag} abc (or ${env}=abc) is wrong usage: exit 2 naming it, before the data dir is opened`, async () => {
    for (const r of [await serveWith([flag!, 'abc']), await serveWith([], { [env!]: 'abc' })]) {
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(flag)
      expect(r.stderr).toContain("'abc'")
      expect(r.stderr).toContain('usage: tessera serve')
      expect(r.stderr).not.toContain('opening the data dir')
    }
  }, 60_000)
}

test('serve with an unreachable database names its URL (password hidden) and says it could not connect', async () => {
  const r = await serveWith([], { TESSERA_DATABASE_URL: 'postgres://user:s3cret@127.0.0.1:1/tessera' })
  expect(r.code).toBe(4)
  expect(r.stderr).toContain('postgres://user:***@127.0.0.1:1/tessera')
  expect(r.stderr).toContain('database')
  expect(r.stderr).not.toContain('s3cret')
  expect(r.stderr).not.toContain('--url?')
}, 60_000)

test('after a declared route threw a non-Error, SIGTERM still stops the server with exit 0', async () => {
  const dir = tempDir()
  const home = join(dir, 'data')
  await (await Tessera.open({ home, restoreFrom: await templateBlob() })).close()
  const file = join(dir, 'setup.js')
  writeFileSync(file, `export default async function setup(db) {
  const { v } = db
  db.route.call('/boom', v.object({}), async () => { throw { x: 1 } })
}
`)
  expect((await runCli('apply', file, '--home', home)).code).toBe(0)
  const port = 21000 + Math.floor(Math.random() * 20000)
  const { proc } = await startServe(home, port, '--setup', file)
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/app/boom`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(res.status).toBe(500)
  expect(res.headers.get('content-type')).toContain('application/json')
  expect(((await res.json()) as { error: { code: string; message: string } }).error.message).toContain('route /boom')
  proc.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
  const stderr = await new Response(proc.stderr as ReadableStream).text()
  expect(stderr).not.toContain('Bun v')
}, 120_000)
