import { currentCaller, withCaller } from '../ai/index.ts'
import type { Caller } from '../ai/index.ts'
import { commonPrefixes, currentAuthorLimits, pathUnder, withAuthorLimits } from '../media/index.ts'
import type { AuthorLimits } from '../media/index.ts'

// The author of a stored expression (a computed column, an index) and what it could reach, kept with it: the media
// it could read (src/media/author-limits.ts) and the tables it could read. A column a scoped token defines runs later
// for every writer of the table and every reader of an unstored column; run with that caller's rights, a retrieval
// function in it would read another tenant's rows into the author's table (an admin's insert filling alice's column
// with bob's rows), as a built URL would fetch the server's own network. So it runs within both.

/** What the current caller could reach, when it is restricted in any way (a scoped token); undefined otherwise. */
export function currentColumnAuthor(): AuthorLimits | undefined {
  const media = currentAuthorLimits()
  const caller = currentCaller()
  if (!caller?.readable) return media
  return { ...(media ?? { who: caller.name, localRoots: 'any', privateUrls: true }), readable: caller.readable }
}

/**
 * Runs `fn` within `limits` (a column's author's) as well as the current caller's: media reads (author-limits.ts) and
 * the tables retrieval functions read (ai/caller.ts). `what` names the column in a refusal.
 */
export function withColumnAuthor<T>(limits: AuthorLimits | undefined, what: string, fn: () => T): T {
  if (!limits) return fn()
  const run = () => withAuthorLimits(limits, what, fn)
  const readable = limits.readable
  if (!readable) return run()
  const current = currentCaller()
  const caller: Caller = {
    // The author's own work is refused in its own name; anyone else's names the column too.
    name: current?.name === limits.who ? limits.who : `${what}, defined by ${limits.who},`,
    canRead: (path) => (current ? current.canRead(path) : true) && readable.some((prefix) => pathUnder(path, prefix)),
    readable: commonPrefixes(current?.readable, readable)!,
  }
  return withCaller(caller, run)
}
