import { sep } from 'node:path'
import { currentMediaAccess, withMediaAccess } from './access.ts'
import type { MediaAccess } from './access.ts'

// A stored expression keeps the limits of whoever defined it. A computed column a scoped token adds runs later for
// every writer of the table (an admin's insert, an in-process batch, a recompute) and for every reader of an unstored
// column; run with that caller's rights, the token's expression could build a URL to the server's own network or a
// local path (`image_width(concat('http://127.0.0.1/…', text))`) and read the answer back from the column: the
// server fetching for a tenant what the tenant may not fetch itself. So the column's media reads run under the
// stricter of the current caller's access and the limits its author had when it was defined.

/** What a column's author could reach when the column was defined (kept in its metadata, so it is plain JSON). */
export interface AuthorLimits {
  /** The author, as errors name it ("token 'alice'"). */
  readonly who: string
  /** 'any', or the directories whose files the author could read by path. */
  readonly localRoots: 'any' | readonly string[]
  /** Whether the author's URLs could reach loopback, private and link-local addresses. */
  readonly privateUrls: boolean
  /**
   * The table path prefixes the author could read (its token's scopes); absent: every table. Not a media rule: kept
   * here so one record says what the author could reach; the catalog enforces it for the tables a function reads
   * (src/catalog/author.ts).
   */
  readonly readable?: readonly string[]
}

/** The limits of the current caller when it is restricted in any way (a scoped token); undefined otherwise. */
export function currentAuthorLimits(): AuthorLimits | undefined {
  const access = currentMediaAccess()
  if (!access || (access.localRoots === 'any' && access.privateUrls)) return undefined
  return { who: access.who, localRoots: access.localRoots, privateUrls: !!access.privateUrls }
}

const inside = (dir: string, root: string): boolean => dir === root || dir.startsWith(root.endsWith(sep) ? root : root + sep)

/**
 * What two lists of scopes both cover: each entry of one that lies within an entry of the other (['a'] and ['a/b']
 * share 'a/b'), from both sides, since either list may hold the narrower entry.
 */
function commonScopes(a: readonly string[], b: readonly string[], within: (x: string, scope: string) => boolean): string[] {
  return [...new Set([...a.filter((x) => b.some((r) => within(x, r))), ...b.filter((x) => a.some((r) => within(x, r)))])]
}

/** Directories readable under both lists. */
function commonRoots(a: 'any' | readonly string[], b: 'any' | readonly string[]): 'any' | readonly string[] {
  if (a === 'any') return b
  if (b === 'any') return a
  return commonScopes(a, b, inside)
}

/** Whether a table path lies under a scope prefix ('' covers every path), as token scopes are matched. */
export const pathUnder = (path: string, prefix: string): boolean => prefix === '' || path === prefix || path.startsWith(`${prefix}/`)

/** Table path prefixes readable under both lists (absent: every table). */
export function commonPrefixes(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined {
  if (!a || !b) return a ?? b
  return commonScopes(a, b, pathUnder)
}

/** The stricter of two authors' limits (a column whose expression inlines another author's column). */
export function stricterLimits(a: AuthorLimits | undefined, b: AuthorLimits | undefined): AuthorLimits | undefined {
  if (!a || !b) return a ?? b
  const readable = commonPrefixes(a.readable, b.readable)
  return { who: a.who === b.who ? a.who : `${a.who} and ${b.who}`, localRoots: commonRoots(a.localRoots, b.localRoots), privateUrls: a.privateUrls && b.privateUrls, ...(readable ? { readable } : {}) }
}

/**
 * Runs `fn` (and everything it awaits) under the stricter of the current access and `limits`; `what` says whose
 * expression runs ("column 'w'"), so a refusal names it. Without limits, as is.
 */
export function withAuthorLimits<T>(limits: AuthorLimits | undefined, what: string, fn: () => T): T {
  if (!limits) return fn()
  const current = currentMediaAccess()
  const access: MediaAccess = {
    localRoots: commonRoots(current?.localRoots ?? 'any', limits.localRoots),
    // In-process work (no access) may reach anything; the author's limit still holds.
    privateUrls: (current ? !!current.privateUrls : true) && limits.privateUrls,
    // The author's own work (a backfill it started) is refused in its own name; anyone else's names the column too.
    who: current?.who === limits.who ? limits.who : `${what}, defined by ${limits.who},`,
    ...(current?.readOnly ? { readOnly: true } : {}),
    ...(current?.storeRefs ? { storeRefs: current.storeRefs } : {}),
  }
  return withMediaAccess(access, fn)
}
