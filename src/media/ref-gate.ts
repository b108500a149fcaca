import { errorOf } from '../errors.ts'
import type { TesseraError } from '../errors.ts'
import type { StoreRefGate } from './access.ts'
import { formatMediaRef, parseMediaRef } from './refs.ts'

// The write-side half of the tenant boundary for media store refs (the read side is the media route, which serves a
// ref only when the caller's table holds it). A restricted caller (a scoped token: MediaAccess.storeRefs) may write a
// store ref into a cell only when a table it may read holds it, or when the same request uploaded its bytes. The
// refusal is decided without looking in the store, so it reads the same whether the object exists or not: a write
// cannot be used to ask whether another tenant stored some bytes.

/** The canonical store ref (media://…, s3://…) a cell's value names, when it names one as text; else undefined. */
export function storeRefOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const parsed = parseMediaRef(value)
  return parsed?.kind === 'store' ? formatMediaRef(parsed) : undefined
}

/** Whether a cell's value is bytes to store (Uint8Array, ArrayBuffer, data: URL) rather than a reference. */
export function isUpload(value: unknown): boolean {
  return value instanceof Uint8Array || value instanceof ArrayBuffer || (typeof value === 'string' && /^data:/i.test(value))
}

/**
 * Of `refs`, those the caller may not write: neither uploaded by this request nor held by a table it may read. Refs
 * found held are cleared for the rest of the request (read-gate.ts), so reading them back looks nothing up again.
 */
export async function unheldRefs(gate: StoreRefGate, refs: Iterable<string>): Promise<Set<string>> {
  const asked = [...new Set(refs)].filter((r) => !gate.cleared.has(r))
  if (asked.length === 0) return new Set()
  const held = await gate.held(asked)
  for (const r of held) gate.cleared.add(r)
  return new Set(asked.filter((r) => !held.has(r)))
}

/** A media:// ref whole (at most 83 characters: the caller can tell which of its values it is); longer refs cut. */
export const shownRef = (ref: string): string => (ref.length > 100 ? `${ref.slice(0, 99)}…` : ref)

/** The one refusal, the same for a ref of another tenant's object and for a ref of nothing at all. */
export function unheldRefError(ref: string, who: string, row: number, column: string): TesseraError {
  return errorOf('FORBIDDEN',
    `row ${row}, column '${column}': ${who} may not reference ${shownRef(ref)}: no table it may read holds that media; a scoped token may reference media held by its own tables, or send the bytes (or a data: URL) to upload them`,
    { row, column })
}
