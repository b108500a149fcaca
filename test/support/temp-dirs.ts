import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Temporary directories of the tests, removed once their test file is done: when another test file asks for one
// (bun runs the files one after another in one process) and after the last file (test/support/preload.ts). Left in
// place, one run's data dirs took gigabytes of /tmp, and a machine short of disk failed tests far from their cause.

/** Directories by the test file that made them. */
const tempDirs = new Map<string, string[]>()
let currentFile: string | undefined
/** Made where no test file is in the stack (a helper's import): kept to the end of the run. */
const UNOWNED = '(no test file)'

/** A fresh temporary directory for a data dir or files, removed once its test file is done. */
export function tempDir(prefix = 'tessera-test-'): string {
  const file = callingTestFile()
  if (file !== undefined && file !== currentFile) {
    for (const [owner, dirs] of tempDirs) if (owner !== file && owner !== UNOWNED) (removeAll(dirs), tempDirs.delete(owner))
    currentFile = file
  }
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const key = file ?? UNOWNED
  tempDirs.set(key, [...(tempDirs.get(key) ?? []), dir])
  return dir
}

/** Removes every directory tempDir made (after the last test file). */
export function removeTempDirs(): void {
  for (const dirs of tempDirs.values()) removeAll(dirs)
  tempDirs.clear()
}

function removeAll(dirs: readonly string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true, maxRetries: 2 })
}

/** The test file in the caller's stack (a helper module's call counts for the test file that called the helper). */
function callingTestFile(): string | undefined {
  return /([^\s()]+\.test\.ts):\d+/.exec(new Error().stack ?? '')?.[1]
}
