import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, ROOT } from './build-once.ts'

// The single binary, end to end: built once by build.ts (skipped while dist/tessera is newer than every source
// file), copied alone into an empty directory (no node_modules anywhere near it), then driven as a user would.

const DIST = join(ROOT, 'dist', 'tessera')
const PROBE = join(import.meta.dir, 'fixtures', 'probe.ts')
const NATIVE = process.platform === 'linux' && process.arch === 'x64'

type Child = ReturnType<typeof Bun.spawn<'ignore', 'pipe', 'pipe'>>

const dir = mkdtempSync(join(tmpdir(), 'tessera-binary-'))
const exe = join(dir, 'tessera')
const home = join(dir, 'data')
const children: Child[] = []

function spawn(args: string[], env: Record<string, string> = {}, file = exe): Child {
  // TMPDIR inside the test dir: the binary's copied-out assets go away with it.
  const child = Bun.spawn([file, ...args], { cwd: dir, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, TESSERA_HOME: '', TMPDIR: dir, ...env } })
  children.push(child)
  return child
}

/** A child's stdout, read as it comes: `waitFor` a line, then `all()` once it exited. */
function output(child: Child) {
  let seen = ''
  const done = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of child.stdout) seen += decoder.decode(chunk, { stream: true })
  })()
  return {
    async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
      for (;;) {
        const m = seen.match(pattern)
        if (m) return m
        if (child.exitCode !== null) {
          await done
          throw new Error(`process exited (${child.exitCode}) before printing ${pattern}:\n${seen}\n${await new Response(child.stderr).text()}`)
        }
        await Bun.sleep(10)
      }
    },
    async all(): Promise<string> {
      await done
      return seen
    },
  }
}

/** Starts `tessera serve --port 0` and returns the port it bound and the ms until /health answered. */
async function serve(args: string[] = [], env: Record<string, string> = {}): Promise<{ child: Child; out: ReturnType<typeof output>; base: string; readyMs: number }> {
  const start = performance.now()
  const child = spawn(['serve', '--home', home, '--port', '0', '--quiet', ...args], env)
  const out = output(child)
  const [, port] = await out.waitFor(/ at http:\/\/[^:]+:(\d+)/)
  const base = `http://127.0.0.1:${port}`
  const health = await fetch(`${base}/health`)
  expect(health.status).toBe(200)
  expect(((await health.json()) as { status: string }).status).toBe('ok')
  return { child, out, base, readyMs: performance.now() - start }
}

async function api<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: T }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    ...(body === undefined ? { headers } : { headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  return { status: res.status, json: (await res.json()) as T }
}

const distance = { fn: 'vector_distance', args: [{ col: 'emb' }], opts: { vector: [1, 0, 0], metric: 'l2', dims: 3 } }

beforeAll(() => {
  const ms = ensureBuilt(DIST)
  if (ms) console.log(`build.ts: ${(ms / 1000).toFixed(1)} s`)
  copyFileSync(DIST, exe)
}, 120_000)

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill(9)
  rmSync(dir, { recursive: true, force: true })
})

describe('single binary', () => {
  test('runs alone in an empty directory: --version and init', async () => {
    const version = spawn(['--version'])
    expect(await version.exited).toBe(0)
    expect((await new Response(version.stdout).text()).trim()).toMatch(/^\d+\.\d+\.\d+/)

    const init = spawn(['init', '--home', home])
    expect(await init.exited).toBe(0)
    expect(await new Response(init.stdout).text()).toContain(`data dir ready: ${home} (0 tables)`)
  }, 60_000)

  test('serve: tables, rows and a pgvector query over HTTP; a second serve is refused; SIGTERM exits cleanly', async () => {
    const { child, out, base } = await serve()

    expect((await api(base, 'POST', '/dirs', { path: 'demo' })).status).toBe(201)
    const created = await api<{ path: string }>(base, 'POST', '/tables', {
      path: 'demo/items', schema: { id: 'int', name: 'string', emb: 'array<float32>[3]' }, primaryKey: 'id',
    })
    expect(created).toEqual({ status: 201, json: expect.objectContaining({ path: 'demo/items' }) })
    const inserted = await api<{ numInserted: number }>(base, 'POST', '/tables/demo/items/-/rows', {
      rows: [{ id: 1, name: 'a', emb: [1, 0, 0] }, { id: 2, name: 'b', emb: [0, 1, 0] }, { id: 3, name: 'c', emb: [0.9, 0.1, 0] }],
    })
    expect(inserted.status).toBe(201)
    expect(inserted.json.numInserted).toBe(3)

    const rows = await api<{ rows: unknown[]; total: number }>(base, 'GET', '/tables/demo/items/-/rows')
    expect(rows.json.total).toBe(3)
    expect(rows.json.rows).toEqual([{ id: 1, name: 'a', emb: [1, 0, 0] }, { id: 2, name: 'b', emb: [0, 1, 0] }, { id: 3, name: 'c', emb: [expect.closeTo(0.9, 6), expect.closeTo(0.1, 6), 0] }])

    // vector_distance compiles to pgvector's <-> operator: this runs the extension loaded from the binary.
    const nearest = await api<{ rows: { id: number; d: number }[] }>(base, 'POST', '/query', {
      table: 'demo/items', select: { id: { col: 'id' }, d: distance }, orderBy: [{ expr: distance }], limit: 2,
    })
    expect(nearest.status).toBe(200)
    expect(nearest.json.rows.map((r) => r.id)).toEqual([1, 3])
    expect(nearest.json.rows[1]!.d).toBeCloseTo(Math.SQRT2 / 10, 5)

    const second = spawn(['serve', '--home', home, '--port', '0'])
    expect(await second.exited).toBe(3)
    expect(await new Response(second.stderr).text()).toContain(`in use by process ${child.pid}`)

    child.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    expect(await out.all()).toContain('SIGTERM: draining (new requests get 503)')
  }, 60_000)

  test('restarts on the existing data dir with the rows intact', async () => {
    const { child, base, readyMs } = await serve()
    console.log(`binary: ${(statSync(exe).size / 1024 / 1024).toFixed(1)} MB; start to first /health on an existing data dir: ${readyMs.toFixed(0)} ms`)
    const count = await api<{ count: number }>(base, 'POST', '/query', { table: 'demo/items', count: true })
    expect(count.json.count).toBe(3)
    child.kill('SIGTERM')
    expect(await child.exited).toBe(0)
  }, 60_000)

  // Libraries that load files or native code at run time, inside a binary built like dist/tessera (a probe entry:
  // no CLI command runs a model yet). --slim, and any target but linux-x64, leaves the native ones out.
  test.each(NATIVE ? ['native', 'slim'] : ['slim'])('%s build: onnxruntime, sharp and transformers.js inside the binary', async (kind) => {
    const probe = join(ROOT, 'dist', `test-probe-${kind}`)
    ensureBuilt(probe, '--entry', PROBE, ...(kind === 'slim' ? ['--slim'] : []))
    const copy = join(dir, `probe-${kind}`)
    copyFileSync(probe, copy)
    const child = spawn([], {}, copy)
    expect(await child.exited).toBe(0)
    const r = JSON.parse(await new Response(child.stdout).text()) as Record<string, unknown>
    // onnxruntime-web always works (its wasm is embedded): the fallback src/inference/ uses when native is false.
    expect(r).toMatchObject({ compiled: true, native: kind === 'native', ortWeb: [11, 22] })
    if (kind === 'native') {
      expect(r).toMatchObject({ ortNode: [11, 22], sharp: [3, 2], transformers: 'function' })
    } else {
      expect((r.ortNode as { error: string }).error).toContain('libonnxruntime.so.1')
      expect(r.sharp).toEqual([3, 2])
    }
  }, 120_000)

  test("the container's command: 0.0.0.0 is refused without tokens, served with TESSERA_ADMIN_TOKEN", async () => {
    const open = spawn(['serve', '--home', home, '--port', '0', '--host', '0.0.0.0'])
    expect(await open.exited).toBe(2)
    expect(await new Response(open.stderr).text()).toContain('refusing to serve 0.0.0.0 without API tokens')

    const token = 'binary-test-token-0123456789abcdef'
    const { child, base } = await serve(['--host', '0.0.0.0'], { TESSERA_ADMIN_TOKEN: token })
    expect((await api(base, 'GET', '/tables?dir=demo')).status).toBe(401)
    const tables = await api<{ tables: string[] }>(base, 'GET', '/tables?dir=demo', undefined, token)
    expect(tables).toEqual({ status: 200, json: { tables: ['demo/items'] } })
    child.kill('SIGTERM')
    expect(await child.exited).toBe(0)
  }, 60_000)
})
