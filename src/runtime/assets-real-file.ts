import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/**
 * Copies a file embedded in the binary to a real file under the temp dir, for code that streams, imports or
 * dlopens it by path, which Bun cannot do from inside the binary. The directory is named by the content's hash,
 * so binaries of different versions never share a stale copy; written via rename, so racing processes never see
 * half a file. Bun only (Bun.hash: ~10 ms for 45 MB, where sha256 takes ~100 ms).
 */
export function realFile(embedded: string, name: string): string {
  const bytes = readFileSync(embedded)
  const hash = Bun.hash(bytes).toString(16).padStart(16, '0')
  const dir = join(tmpdir(), `tessera-assets-${process.getuid?.() ?? 'user'}`, hash)
  const target = join(dir, name)
  if (existsSync(target)) return target
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmp = `${target}.${process.pid}.tmp`
  writeFileSync(tmp, bytes)
  renameSync(tmp, target)
  return target
}

/** Copies an embedded file to `name` in the same folder as `besidePath` (a file realFile wrote), for loaders that
 * look for their companion files next to themselves. Same write-then-rename as realFile. */
export function realFileBeside(embedded: string, name: string, besidePath: string): string {
  const target = join(dirname(besidePath), name)
  if (existsSync(target)) return target
  const tmp = `${target}.${process.pid}.tmp`
  writeFileSync(tmp, readFileSync(embedded))
  renameSync(tmp, target)
  return target
}
