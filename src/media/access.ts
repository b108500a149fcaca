import { AsyncLocalStorage } from 'node:async_hooks'
import { realpathSync } from 'node:fs'
import { resolve, sep } from 'node:path'
import { TesseraError } from '../errors.ts'
import { resolveTarget } from './outbound/fetch.ts'

// Which local files a piece of work may read as media. In-process use reads any path (the caller owns the machine);
// the HTTP server runs each request under its caller's access, so a tenant's token cannot make the server read (and
// serve back, thumbnail, OCR or embed) files outside the directories the operator opened (tessera serve
// --media-root DIR). Likewise for URLs: a tenant's URL may not point the server at its own network (loopback,
// private, link-local addresses such as a cloud metadata service), whose answers the media route would hand back,
// unless the operator allows it (--media-allow-private). Uploaded bytes and media:// refs are not limited here.

export interface MediaAccess {
  /** 'any', or the directories whose files may be read by path. */
  readonly localRoots: 'any' | readonly string[]
  /** Who is asking, for the error message ("token 'alice'"). */
  readonly who: string
  /** Whether http(s) URLs may reach loopback, private and link-local addresses (default: no). */
  readonly privateUrls?: boolean
  /**
   * The work only reads (a query, a search, an export): media it derives (a resized image) goes to the bounded
   * cache, never into the media store, so readers cannot grow the data dir.
   */
  readonly readOnly?: boolean
  /**
   * Which media store refs (media://<sha256>…) the caller may write into a cell; absent: any (admins, in-process use).
   * Store refs are content addresses, so a hash names an object whoever stored it: a scoped token that could write any
   * ref would learn from the write's answer whether another tenant stored those bytes, and then read them through its
   * own table's media route. The server sets this for scoped tokens (src/server/media-refs.ts); rows.ts enforces it.
   */
  readonly storeRefs?: StoreRefGate
  /**
   * The paths (table paths or dir prefixes) whose tables' media a restricted caller may reference: storeRefs' scopes
   * in a form that survives as JSON, kept with a background job so that a job resumed after a restart checks the
   * refs it reads as the request that started it did (src/catalog/jobs.ts).
   */
  readonly storeRefScopes?: readonly string[]
}

/** The store refs a restricted caller may reference: those a table it may read holds, and those it uploaded. */
export interface StoreRefGate {
  /** Of `refs` (canonical, distinct), those held by a row version of a table the caller may read. One lookup per call. */
  held(refs: readonly string[]): Promise<ReadonlySet<string>>
  /**
   * The refs this request may use without a lookup: bytes it stored (uploads, data: URLs: the caller has the bytes, so
   * naming them leaks nothing), refs found held, read from a media column of a table it queries, or derived by its
   * own work (src/media/read-gate.ts). The gate lives as long as the request.
   */
  readonly cleared: Set<string>
  /** The paths (table paths or dir prefixes, '' every path) whose tables `held` looks in. */
  readonly scopes: readonly string[]
}

/** Whether the current work only reads (see MediaAccess.readOnly). */
export function readOnlyWork(): boolean {
  return !!current.getStore()?.readOnly
}

const current = new AsyncLocalStorage<MediaAccess>()

/**
 * Runs `fn` as read-only work under the current access: a read the server routes by something other than its path
 * (an MCP tool call, a declared query route) derives into the bounded cache as POST /query does. Outside any access
 * (in-process use) it runs as it is.
 */
export function asReadOnlyWork<T>(fn: () => T): T {
  const access = current.getStore()
  return access && !access.readOnly ? current.run({ ...access, readOnly: true }, fn) : fn()
}

/** Runs `fn` (and everything it awaits) under `access`. */
export function withMediaAccess<T>(access: MediaAccess, fn: () => T): T {
  return current.run(access, fn)
}

/** The access the current work runs under (undefined: unrestricted, in-process use). */
export function currentMediaAccess(): MediaAccess | undefined {
  return current.getStore()
}

/** Who is asking, when the current work runs under a restricted caller (a scoped token); undefined otherwise. */
export function restrictedCaller(): string | undefined {
  const access = current.getStore()
  return access && access.localRoots !== 'any' ? access.who : undefined
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

/**
 * Throws FORBIDDEN when the current work may not fetch this URL because its host is (or resolves to) an address on
 * the server's own networks: the early check at insert, so a refused URL is never stored. The fetch itself checks
 * again, hop by hop, and connects to the address it checked (outbound/fetch.ts), so a name that resolves
 * differently later (DNS rebinding) or a redirect cannot get around it.
 */
export async function checkRemoteFetch(url: string): Promise<void> {
  const access = current.getStore()
  if (!access || access.privateUrls) return
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return
  }
  await resolveTarget(parsed).catch((e: unknown) => {
    // A host that does not resolve now is the fetch's problem (it may answer later); only a refusal stops here.
    if (e instanceof TesseraError && e.code === 'FORBIDDEN') throw e
  })
}
