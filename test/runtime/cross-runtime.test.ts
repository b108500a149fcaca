import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { NODE_REFUSAL } from '../../src/runtime/node.ts'
import { tempDir } from '../support/db.ts'

// One lock for all runtimes: Bun and Deno take the same kernel flock on <home>/.lock, so whichever opens a data dir
// first keeps every other process out, whatever it runs on; Node, which cannot take that lock, never opens one.
// Node runs the library as a user would get it there: bundled to JavaScript (the sources are TypeScript).

const ROOT = join(import.meta.dir, '..', '..')
const HOLDER = join(import.meta.dir, 'fixtures', 'holder.ts')
const DENO = join(ROOT, 'node_modules', '.bin', 'deno')
// Inside the checkout (git-ignored), so the bundle's package imports resolve from node_modules.
const NODE_DIR = join(ROOT, 'test-artifacts', `node-holder-${process.pid}`)
const NODE_HOLDER = join(NODE_DIR, 'holder.js')

type Child = ReturnType<typeof Bun.spawn<'ignore', 'pipe', 'pipe'>>
const children: Child[] = []

beforeAll(() => {
  mkdirSync(NODE_DIR, { recursive: true })
  const r = Bun.spawnSync([process.execPath, 'build', HOLDER, '--target', 'node', '--packages', 'external', '--splitting', '--external', 'bun:*', '--external', '*.tar.gz', '--outdir', NODE_DIR], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`bundling the holder for Node failed: ${r.stderr.toString()}`)
}, 120_000)

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill(9)
  rmSync(NODE_DIR, { recursive: true, force: true })
})

const COMMANDS = {
  bun: (home: string) => [process.execPath, HOLDER, home],
  deno: (home: string) => [DENO, 'run', '-A', HOLDER, home],
  node: (home: string) => ['node', NODE_HOLDER, home],
} as const
type RuntimeName = keyof typeof COMMANDS

/** Starts a holder and resolves with its first line ("opened ..." or "failed ..."). */
async function open(runtime: RuntimeName, home: string): Promise<{ child: Child; line: string }> {
  const child = Bun.spawn(COMMANDS[runtime](home), { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NO_COLOR: '1' } })
  children.push(child)
  const reader = child.stdout.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) break
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  if (!text.includes('\n')) throw new Error(`${runtime} holder printed nothing: ${await new Response(child.stderr).text()}`)
  return { child, line: text.split('\n')[0]! }
}

async function stop(child: Child): Promise<void> {
  child.kill(9)
  await child.exited
}

describe('one data dir, one process, whatever the runtime', () => {
  test.each([['bun', 'deno'], ['deno', 'bun']] as const)('%s holds the dir: %s and node are refused', async (first, second) => {
    const home = tempDir()
    const holder = await open(first, home)
    expect(holder.line).toBe(`opened ${first} ${holder.child.pid}`)
    const other = await open(second, home)
    expect(other.line).toStartWith('failed DATA_DIR_LOCKED')
    expect(other.line).toContain(`in use by process ${holder.child.pid}`)
    const node = await open('node', home)
    expect(node.line).toBe(`failed UNAVAILABLE: ${NODE_REFUSAL}`)
    await stop(holder.child)
    // The kernel dropped the lock with the holder: the other runtime opens it now.
    const after = await open(second, home)
    expect(after.line).toStartWith(`opened ${second}`)
    await stop(after.child)
  }, 120_000)

  test('bun and deno racing for a fresh dir: exactly one wins', async () => {
    const home = tempDir()
    const [a, b] = await Promise.all([open('bun', home), open('deno', home)])
    const lines = [a.line, b.line]
    expect(lines.filter((l) => l.startsWith('opened'))).toHaveLength(1)
    expect(lines.filter((l) => l.startsWith('failed DATA_DIR_LOCKED'))).toHaveLength(1)
    await Promise.all([stop(a.child), stop(b.child)])
  }, 120_000)

  test('node never opens a data dir, not even a free one', async () => {
    const home = tempDir()
    const { line } = await open('node', home)
    expect(line).toBe(`failed UNAVAILABLE: ${NODE_REFUSAL}`)
    expect(existsSync(join(home, 'pgdata'))).toBe(false)
  }, 60_000)
})
