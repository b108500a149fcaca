import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import { chromium } from 'playwright-core'
import { killServers, startServe } from '../support/cli.ts'
import { tempDir } from '../support/db.ts'

// The HTTP client as users outside Bun get it: `npm run build:client` → dist/client/index.js (plain JavaScript, no
// Buffer, no server code) and index.d.ts, driven from Node and from a real browser (Debian's chromium) against a
// running `tessera serve`. Both run the same script: a table, rows with bytes, a query, history, revert.

const ROOT = join(import.meta.dir, '..', '..')
const DIST = join(ROOT, 'dist', 'client')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
let base = ''

// The script both runtimes run; `connect` comes from dist/client/index.js. Returns what it saw, as JSON.
const SCRIPT = `async function clientScript(connect, base, name) {
  const db = connect(base)
  const t = await db.createTable(name, { id: 'int', text: 'string', raw: 'binary' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, text: 'hello', raw: new Uint8Array([0, 1, 254, 255]) }, { id: 2, text: 'world', raw: new Uint8Array(70000).fill(7) }])
  const rows = (await t.where(t.c.id.gt(0)).orderBy(t.c.id).select('id', t.c.text.upper(), 'raw').collect()).rows
  const history = await t.history()
  await t.revert()
  return {
    rows: rows.map((r) => ({ id: r.id, upper: r.upper ?? r.col_1 ?? Object.values(r)[1], rawIsBytes: r.raw instanceof Uint8Array, rawLength: r.raw.length, rawHead: Array.from(r.raw.slice(0, 4)) })),
    versions: history.map((v) => v.version),
    countAfterRevert: await (await db.getTable(name)).count(),
    missing: await db.getTable('nope_' + name).then(() => 'found', (e) => e.name + ' ' + e.code),
  }
}`

const expected = {
  rows: [
    { id: 1, upper: 'HELLO', rawIsBytes: true, rawLength: 4, rawHead: [0, 1, 254, 255] },
    { id: 2, upper: 'WORLD', rawIsBytes: true, rawLength: 70000, rawHead: [7, 7, 7, 7] },
  ],
  versions: [1, 0],
  countAfterRevert: 0,
  missing: 'NotFoundError TABLE_NOT_FOUND',
}

beforeAll(async () => {
  const build = Bun.spawnSync([process.execPath, join(ROOT, 'build-client.ts')], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (build.exitCode !== 0) throw new Error(`npm run build:client failed: ${build.stdout.toString()} ${build.stderr.toString()}`)
  const port = 20000 + Math.floor(Math.random() * 20000)
  await startServe(join(tempDir(), 'data'), port)
  base = `http://127.0.0.1:${port}`
}, 120_000)

afterAll(killServers)

describe('dist/client', () => {
  test('plain JavaScript with declarations, free of Node built-ins and Buffer', () => {
    const js = readFileSync(join(DIST, 'index.js'), 'utf8')
    expect(js).not.toMatch(/from ["']node:|require\(|\bBuffer\./)
    expect(existsSync(join(DIST, 'index.d.ts'))).toBe(true)
    // A TypeScript user's program type-checks against the declarations.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-client-types-'))
    writeFileSync(join(dir, 'use.ts'), `import { connect } from ${JSON.stringify(join(DIST, 'index.js'))}
const db = connect('http://127.0.0.1:8080', { token: 't' })
export async function f(): Promise<number> { const t = await db.getTable('a/b'); return (await t.where(t.c.id.gt(1)).count()) + t.version }
`)
    const tsc = Bun.spawnSync(['node', join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--lib', 'es2022,dom', '--ignoreConfig', join(dir, 'use.ts')], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe('')
    expect(tsc.exitCode).toBe(0)
  }, 60_000)

  test('runs on Node', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tessera-client-node-')), 'run.mjs')
    writeFileSync(file, `import { connect } from ${JSON.stringify(join(DIST, 'index.js'))}
${SCRIPT}
console.log(JSON.stringify(await clientScript(connect, process.argv[2], 'from_node')))
`)
    const p = Bun.spawn(['node', file, base], { stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual(expected)
  }, 60_000)

  test("Node resolves 'tessera/client' to the built JavaScript (package.json exports)", () => {
    const p = Bun.spawnSync(['node', '--input-type=module', '-e', "const m = await import('tessera/client'); console.log(import.meta.resolve('tessera/client'), typeof m.connect)"], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    expect(p.stderr.toString()).toBe('')
    expect(p.stdout.toString().trim()).toBe(`file://${join(DIST, 'index.js')} function`)
  }, 60_000)

  test.skipIf(!existsSync(CHROMIUM))('runs in Chromium', async () => {
    let browser: BrowserContext | undefined
    try {
      browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tessera-chromium-')), {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      })
      const page = browser.pages()[0] ?? (await browser.newPage())
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      // The page and the module are served on the server's own origin (routed by the test), as an app would host them.
      await page.route(`${base}/__client/**`, (route) => {
        const url = new URL(route.request().url())
        if (url.pathname.endsWith('.js')) return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(DIST, 'index.js'), 'utf8') })
        return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>client</title>' })
      })
      await page.goto(`${base}/__client/index.html`)
      const result = await page.evaluate(async ([script, origin]) => {
        const { connect } = await import(`${origin}/__client/index.js`)
        // eslint-disable-next-line no-new-func
        const fn = new Function(`return (${script})`)() as (c: unknown, b: string, n: string) => Promise<unknown>
        return fn(connect, origin, 'from_browser')
      }, [SCRIPT, base] as const)
      expect(errors).toEqual([])
      expect(result).toEqual(expected)
    } finally {
      await browser?.close()
    }
  }, 120_000)
})
