import { rmSync } from 'node:fs'
import process from 'node:process'

// Temporary folders a process makes for itself (the fallback media environment when no database is open) are removed
// when it exits. 'exit' handlers run synchronously on Bun, Node and Deno alike; a test runner that never emits 'exit'
// calls removeAtExitNow itself (test/support/preload.ts).

const paths = new Set<string>()
let hooked = false

/** Removes `path` (a folder, recursively) when the process exits. */
export function removeAtExit(path: string): void {
  paths.add(path)
  if (hooked) return
  hooked = true
  process.once('exit', removeAtExitNow)
}

/** Removes now what removeAtExit registered. */
export function removeAtExitNow(): void {
  for (const p of paths) rmSync(p, { recursive: true, force: true })
  paths.clear()
}
