import { readFileSync } from 'node:fs'
import type { LockHolder } from './types.ts'

// The lock file's content says who holds it, so a refused process can name the holder. The content is only
// information: the kernel lock, not the file's existence, decides who holds the data dir.

export function describeHolder(holder: LockHolder): string {
  return JSON.stringify(holder) + '\n'
}

export function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as LockHolder
    return typeof parsed.pid === 'number' ? parsed : undefined
  } catch {
    return undefined
  }
}

/** Whether a process with this pid exists (on this host); EPERM means it exists but belongs to someone else. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
