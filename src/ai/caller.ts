import { AsyncLocalStorage } from 'node:async_hooks'
import { TesseraError } from '../errors.ts'
import { canAccess } from '../server/auth.ts'
import type { Principal } from '../server/auth.ts'

// The token a request runs under, for the code it reaches indirectly: a retrieval function inside a select, an
// insert's computed column or an MCP tool call reads other tables than the one the route checked, so it checks them
// here against the same scopes. Outside a request (the library, background jobs) there is no caller and no check.

const current = new AsyncLocalStorage<Principal>()

export function withCaller<T>(principal: Principal, fn: () => T): T {
  return current.run(principal, fn)
}

export function currentCaller(): Principal | undefined {
  return current.getStore()
}

/** Throws FORBIDDEN unless the current caller (if any) may read every table in `paths`. */
export function requireCallerRead(paths: readonly string[], what: string): void {
  const p = current.getStore()
  if (!p) return
  for (const path of paths) {
    if (!canAccess(p, path, 'read')) throw new TesseraError('FORBIDDEN', `token '${p.name}' has no read access to '${path}', which ${what} reads`, { path, access: 'read' })
  }
}
