import { errorOf } from '../errors.ts'
import type { TesseraError } from '../errors.ts'
import { currentMediaAccess } from './access.ts'
import { shownRef, storeRefOf, unheldRefs } from './ref-gate.ts'

// The read-side half of the tenant boundary for media store refs. A media function resolves a ref to bytes; under a
// restricted caller (a scoped token: MediaAccess.storeRefs) a store ref it did not get from a table it may read would
// be another tenant's object by its hash (image_thumbnail over a literal media:// ref returned the picture, and a ref
// of nothing failed differently: an existence oracle). So a store ref is resolved only when it is cleared for the
// request: held by a table the caller may read (looked up once per ref, batched where a query names them), uploaded
// by the request, read from a media column of a table the query reads (cleared without a lookup: the compiler has
// checked the caller may read that table), or derived by the request's own work from bytes it could read.

/**
 * Clears the store refs among `values` for the current request: values read from a media column of a table the
 * caller may read, or media the request itself derived. A no-op for unrestricted callers (admins, in-process use).
 */
export function clearStoreRefs(values: Iterable<unknown>): void {
  const gate = currentMediaAccess()?.storeRefs
  if (!gate) return
  for (const v of values) if (typeof v === 'string' && v.length > 0) gate.cleared.add(v)
}

/**
 * Throws the one FORBIDDEN refusal unless the current caller may read the store ref `canonical` (see above). Decided
 * before the store is looked at, so a ref of another tenant's object and a ref of nothing read the same.
 */
export async function checkStoreRead(ref: string, canonical: string): Promise<void> {
  const access = currentMediaAccess()
  const gate = access?.storeRefs
  if (!gate) return
  if (gate.cleared.has(ref) || gate.cleared.has(canonical)) return
  if ((await unheldRefs(gate, [canonical])).size > 0) throw unreadableRefError(canonical, access.who)
}

/**
 * Checks at once the store refs named by literals of expressions (a query's, a column definition's), naming the
 * expression of the first refused: one lookup for all of them, before anything runs. `literals`: [value, expression].
 */
export async function checkLiteralRefs(literals: readonly (readonly [unknown, string])[]): Promise<void> {
  const access = currentMediaAccess()
  const gate = access?.storeRefs
  if (!gate) return
  const named = literals.flatMap(([v, expression]) => {
    const ref = storeRefOf(v)
    return ref ? [[ref, expression] as const] : []
  })
  if (named.length === 0) return
  const refused = await unheldRefs(gate, named.map(([ref]) => ref))
  const first = named.find(([ref]) => refused.has(ref))
  if (first) throw unreadableRefError(first[0], access.who, first[1])
}

/** The one read refusal, the same for a ref of another tenant's object and for a ref of nothing at all. */
export function unreadableRefError(ref: string, who: string, expression?: string): TesseraError {
  const where = expression === undefined ? '' : `${expression.length > 200 ? `${expression.slice(0, 199)}…` : expression}: `
  return errorOf('FORBIDDEN',
    `${where}${who} may not read ${shownRef(ref)}: no table it may read holds that media; a scoped token may use media held by its own tables, or send the bytes (or a data: URL)`,
    expression === undefined ? {} : { expression })
}
