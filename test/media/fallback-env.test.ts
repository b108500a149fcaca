import { expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

// With no database open, media work uses a process-wide environment in a temp folder; the process removes that folder
// when it exits (each process used to leave one in /tmp, up to ~90 MB of images each in a test run).

test('the fallback media folder is gone once its process exits', () => {
  const root = join(import.meta.dir, '../..')
  const script = `
    import { currentMediaEnv } from '${root}/src/media/index.ts'
    const env = currentMediaEnv()
    const ref = await env.store.put(new Uint8Array([1, 2, 3]), 'bin')
    console.log(JSON.stringify({ dir: env.store.dir, ref }))`
  const r = Bun.spawnSync([process.execPath, '-e', script], { cwd: root, stderr: 'pipe' })
  expect(r.exitCode, r.stderr.toString()).toBe(0)
  const { dir } = JSON.parse(r.stdout.toString().trim().split('\n').at(-1)!) as { dir: string }
  expect(dir).toContain('tessera-media-')
  expect(existsSync(dir)).toBe(false)
})
