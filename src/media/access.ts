import { AsyncLocalStorage } from 'node:async_hooks'
import { realpathSync } from 'node:fs'
import { resolve, sep } from 'node:path'
import { TesseraError } from '../errors.ts'

// Which local files a piece of work may read as media. In-process use reads any path (the caller owns the machine);
// the HTTP server runs each request under its caller's access, so a tenant's token cannot make the server read (and
// serve back, thumbnail, OCR or embed) files outside the directories the operator opened (tessera serve
// --media-root DIR). Uploaded bytes, media:// refs and http(s) URLs are not local paths and are not limited here.

export interface MediaAccess {
  /** 'any', or the directories whose files may be read by path. */
  readonly localRoots: 'any' | readonly string[]
  /** Who is asking, for the error message ("token 'alice'"). */
  readonly who: string
}

const current = new AsyncLocalStorage<MediaAccess>()

/** Runs `fn` (and everything it awaits) under `access`. */
export function withMediaAccess<T>(access: MediaAccess, fn: () => T): T {
  return current.run(access, fn)
}

/** A root directory as compared: absolute, with symlinks resolved when it exists. */
export function canonicalDir(dir: string): string {
  const abs = resolve(dir)
  try {
    return realpathSync(abs)
  } catch {
    return abs
  }
}

/** Throws FORBIDDEN when the current work may not read this local path (checked before the file is looked at). */
export function checkLocalRead(path: string): void {
  const access = current.getStore()
  if (!access || access.localRoots === 'any') return
  // Symlinks resolved, so a link inside a root cannot point outside it.
  const real = canonicalDir(path)
  if (access.localRoots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))) return
  throw new TesseraError('FORBIDDEN',
    `${access.who} may not read the server's local file ${path}: send the bytes (a data: URL) or an http(s) URL, or have the operator serve that folder (tessera serve --media-root DIR)`,
    { media: path })
}
