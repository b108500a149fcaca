import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// The same sources under Deno 2 (deno is a devDependency; node_modules is used as is, nothing is downloaded):
// src/runtime/deno.ts's lock and serve, the store, the catalog and the HTTP app.

const ROOT = join(import.meta.dir, '..', '..')
const DENO = join(ROOT, 'node_modules', '.bin', 'deno')
const SMOKE = join(import.meta.dir, 'fixtures', 'smoke.ts')
const home = mkdtempSync(join(tmpdir(), 'tessera-deno-'))
type Child = ReturnType<typeof Bun.spawn<'pipe', 'pipe', 'pipe'>>
const children: Child[] = []

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill(9)
  rmSync(home, { recursive: true, force: true })
})

function deno(...args: string[]): Child {
  const child = Bun.spawn([DENO, 'run', '-A', SMOKE, ...args], { cwd: ROOT, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NO_COLOR: '1' } })
  children.push(child)
  return child
}

/** Parses the fixture's JSON lines as they arrive, until one has step === `until` (or the process ends). */
async function steps(child: Child, until: string): Promise<Record<string, Record<string, unknown>>> {
  const seen: Record<string, Record<string, unknown>> = {}
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  let buf = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return seen
      buf += decoder.decode(value, { stream: true })
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (!line.startsWith('{')) continue
        const o = JSON.parse(line) as Record<string, unknown>
        seen[String(o.step)] = o
        if (o.step === until) return seen
      }
    }
  } finally {
    reader.releaseLock()
  }
}

describe('deno', () => {
  test('opens, writes, queries and serves under Deno; a second Deno process is refused with the holder pid', async () => {
    const first = deno(home, 'hold')
    const s = await steps(first, 'holding')
    if (!s.holding) throw new Error(`deno smoke stopped early (${await first.exited}): ${JSON.stringify(s)}\n${await new Response(first.stderr).text()}`)
    expect(s.open).toEqual({ step: 'open', runtime: 'deno', pid: first.pid })
    expect(s.query!.rows).toEqual([{ name: 'two' }])
    expect(s.http).toEqual({ step: 'http', status: 200, total: 2 })

    const second = deno(home)
    expect(await second.exited).toBe(3)
    const refused = (await steps(second, 'open')).open!
    expect(refused.error).toBe('DATA_DIR_LOCKED')
    expect(refused.message).toContain(`in use by process ${first.pid} (deno smoke)`)

    first.stdin.end()
    expect((await steps(first, 'closed')).closed).toBeDefined()
    expect(await first.exited).toBe(0)
  }, 120_000)
})
