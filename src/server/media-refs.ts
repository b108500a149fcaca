import type { Tessera } from '../catalog/index.ts'
import type { StoreRefGate } from '../media/index.ts'
import type { Principal } from './auth.ts'

// Which media store refs a token may write into a cell (src/media/ref-gate.ts enforces it): an admin any; a scoped
// token those held by the tables its scopes cover (every scope grants read) and those its own request uploads.
// Without this a tenant that knows the hash of another tenant's file could write media://<hash> into its own table,
// learn from the answer whether the object exists, and read it back through its own table's media route.

/** The gate for one request of `p`; undefined for an admin (any ref, as in-process use). */
export function storeRefGate(db: Tessera, p: Principal): StoreRefGate | undefined {
  if (p.admin) return undefined
  const under = p.scopes.map((s) => s.prefix)
  return { held: (refs) => db.heldMediaRefs(refs, under), cleared: new Set(), scopes: under }
}
