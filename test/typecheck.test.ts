import { expect, test } from 'bun:test'
import { join } from 'node:path'

// Bun runs TypeScript without checking types; this keeps the whole project (src, bin, test, bench) type-clean.

test('tsc --noEmit reports no type errors', async () => {
  const root = join(import.meta.dir, '..')
  const p = Bun.spawn([join(root, 'node_modules/.bin/tsc'), '--noEmit', '-p', root], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  expect(`${out}${err}`.trim()).toBe('')
  expect(code).toBe(0)
}, 120000)
