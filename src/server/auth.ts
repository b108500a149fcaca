import type { Context, MiddlewareHandler } from 'hono'
import { errorOf } from '../errors.ts'
import type { RequestLimits } from './request.ts'

// Who is calling, and which dir prefixes they may read or write. Routes check every path they touch through
// tenant.ts's assertCanTouch (the one tenant boundary), so tenants under user_<id>/ never see each other.

export type Access = 'read' | 'write'

export interface Scope {
  /** A dir prefix ('' = everything, 'user_42' = user_42 and below). */
  readonly prefix: string
  readonly access: Access
}

export interface Principal {
  readonly name: string
  readonly admin: boolean
  readonly scopes: readonly Scope[]
}

export const ANONYMOUS_ADMIN: Principal = Object.freeze({ name: 'local', admin: true, scopes: [{ prefix: '', access: 'write' as const }] })

export function covers(prefix: string, path: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`)
}

export function canAccess(p: Principal, path: string, access: Access): boolean {
  if (p.admin) return true
  return p.scopes.some((s) => covers(s.prefix, path) && (access === 'read' || s.access === 'write'))
}

/** Paths a principal may list: inside its scopes, plus the dirs above them (so it can navigate down to them). */
export function canSee(p: Principal, path: string): boolean {
  if (p.admin) return true
  return p.scopes.some((s) => covers(s.prefix, path) || covers(path, s.prefix))
}

export function requireAdmin(p: Principal): void {
  if (!p.admin) throw errorOf('FORBIDDEN', `token '${p.name}' is not an admin token`)
}

/** Resolves a bearer token to a principal; undefined means the token is unknown. */
export type Authenticator = (token: string) => Promise<Principal | undefined>

export interface AuthOptions {
  /** No authenticator: every request is the local admin (only allowed when bound to loopback; the CLI checks). */
  readonly authenticate?: Authenticator
}

/**
 * Request variables: the caller, and the request limits routes check (set by createApp). `principalNow` asks again
 * who the request's token is (undefined once it is revoked): a long-lived answer (a job's event stream) checks it
 * as it goes, so a revoked token or a narrowed scope stops it.
 */
export type AuthEnv = { Variables: { principal: Principal; limits: RequestLimits; principalNow: () => Promise<Principal | undefined> } }

/** The bearer token a request carries (the header, else ?token= for <img> and EventSource URLs). */
function tokenOf(c: Context): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')
  return m?.[1]?.trim() ?? c.req.query('token')
}

/**
 * The principal of a request on a route open to everyone (/openapi.json), which answers more to a known token:
 * undefined without a token or with an unknown one (the route still answers, with less).
 */
export async function optionalPrincipal(options: AuthOptions, c: Context): Promise<Principal | undefined> {
  if (!options.authenticate) return ANONYMOUS_ADMIN
  const token = tokenOf(c)
  return token ? options.authenticate(token) : undefined
}

export function authMiddleware(options: AuthOptions): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const authenticate = options.authenticate
    if (!authenticate) {
      c.set('principal', ANONYMOUS_ADMIN)
      c.set('principalNow', async () => ANONYMOUS_ADMIN)
      return next()
    }
    const token = tokenOf(c)
    if (!token) throw errorOf('UNAUTHORIZED', 'missing API token: send Authorization: Bearer <token>')
    const principal = await authenticate(token)
    if (!principal) throw errorOf('UNAUTHORIZED', 'unknown or revoked API token')
    c.set('principal', principal)
    c.set('principalNow', () => authenticate(token))
    return next()
  }
}
