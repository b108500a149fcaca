import { readdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'

// Building the binary costs ~20–60 s of CPU: build.ts runs only when the output is older than a source file.

export const ROOT = join(import.meta.dir, '..', '..')
const SOURCES = ['src', 'bin', 'build.ts', 'package.json', 'test/binary/fixtures']

function newestSource(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let newest = 0
  for (const name of readdirSync(path)) newest = Math.max(newest, newestSource(join(path, name)))
  return newest
}

/** Runs build.ts unless `outfile` is newer than every source file; returns how long the build took (0 = skipped). */
export function ensureBuilt(outfile: string, ...args: string[]): number {
  const sources = Math.max(...SOURCES.map((p) => newestSource(join(ROOT, p))))
  let built = 0
  try { built = statSync(outfile).mtimeMs } catch { /* not built yet */ }
  if (built > sources) return 0
  const start = performance.now()
  // Built beside the target and renamed over it, so a test run in parallel never starts a half-written binary.
  const tmp = `${outfile}.${process.pid}.tmp`
  const r = Bun.spawnSync([process.execPath, join(ROOT, 'build.ts'), '--outfile', tmp, ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`build.ts ${args.join(' ')} failed:\n${r.stdout.toString()}\n${r.stderr.toString()}`)
  renameSync(tmp, outfile)
  return performance.now() - start
}
