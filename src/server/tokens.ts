import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import * as v from 'valibot'
import { alreadyExists, invalid, notFound } from '../errors.ts'
import { parsePath } from '../catalog/index.ts'
import { ScopeSchema } from '../api/index.ts'
import type { Queryable } from '../store/index.ts'
import type { Authenticator, Principal, Scope } from './auth.ts'

// API tokens. A token is 32 random bytes shown once at creation ('tsr_' + base64url); only its SHA-256 is stored,
// so a copied data dir leaks no usable token. Scopes are dir prefixes with read or write access.

const PREFIX = 'tsr_'
const CACHE_MS = 5_000
/** Names of tokens made from TESSERA_ADMIN_TOKEN start with this. */
const ENV_ADMIN = 'env-admin-'


export interface TokenInfo {
  readonly name: string
  readonly admin: boolean
  readonly scopes: readonly Scope[]
  readonly createdAt: Date
  readonly revoked: boolean
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

/** Parses 'prefix:read' / 'prefix:write' (prefix '' or '/' = everything). */
export function parseScope(s: string): Scope {
  const i = s.lastIndexOf(':')
  const access = i < 0 ? 'read' : s.slice(i + 1)
  if (access !== 'read' && access !== 'write') throw invalid('INVALID_ARGUMENT', `bad scope '${s}': use <dir prefix>:read or <dir prefix>:write`)
  const raw = i < 0 ? s : s.slice(0, i)
  return { prefix: raw === '' || raw === '/' ? '' : parsePath(raw).path, access }
}

/**
 * Scopes as they are matched: each prefix a valid dir path without surrounding slashes ('' or '/' = everything), so
 * a scope that could never match ('user_1/', ' user_1', 'a b') is refused at creation instead of silently granting
 * nothing; duplicates and scopes implied by a wider one of at least the same access are dropped.
 */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  const parsed = scopes.map((s) => {
    if (s.prefix === '' || s.prefix === '/') return { prefix: '', access: s.access }
    if (s.prefix !== s.prefix.trim() || /\/\/|^\/|\/$/.test(s.prefix)) {
      throw invalid('INVALID_ARGUMENT', `bad scope prefix '${s.prefix}': write a dir path such as 'user_1' or 'prod/app' (no leading, trailing or double '/'), or '' for everything`)
    }
    return { prefix: parsePath(s.prefix).path, access: s.access }
  })
  const covers = (a: Scope, b: Scope) => (a.prefix === '' || b.prefix === a.prefix || b.prefix.startsWith(`${a.prefix}/`)) && (a.access === 'write' || b.access === 'read')
  return parsed.filter((s, i) => !parsed.some((o, j) => j !== i && covers(o, s) && (!covers(s, o) || j < i)))
}

export class TokenStore {
  readonly #db: Queryable
  /**
   * Authenticated tokens by hash, so a request costs no query; cleared on every change made here, and entries expire
   * after CACHE_MS so a token revoked by another process (PostgreSQL store) stops working within seconds.
   */
  readonly #cache = new Map<string, { principal: Principal | null; at: number }>()

  constructor(db: Queryable) {
    this.#db = db
  }

  async count(): Promise<number> {
    const r = await this.#db.query<{ n: number }>(`select count(*)::int as n from tessera.tokens where revoked_at is null`)
    return r.rows[0]!.n
  }

  /** Creates a token and returns it in plain text: the only time it is visible. */
  async create(name: string, options: { admin?: boolean; scopes?: readonly Scope[]; token?: string } = {}): Promise<string> {
    if (!/^[\w.@-]{1,64}$/.test(name)) throw invalid('INVALID_NAME', `bad token name '${name}'`)
    const scopes = normalizeScopes((options.scopes ?? []).map((s) => v.parse(ScopeSchema, s)))
    if (!options.admin && scopes.length === 0) throw invalid('INVALID_ARGUMENT', `token '${name}' needs at least one scope, or admin`)
    const token = options.token ?? PREFIX + randomBytes(32).toString('base64url')
    try {
      await this.#db.query(`insert into tessera.tokens(name, hash, admin, scopes) values ($1, $2, $3, $4::jsonb)`, [name, hashToken(token), !!options.admin, JSON.stringify(scopes)])
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw alreadyExists('PATH_ALREADY_EXISTS', `a token named '${name}' already exists`)
      throw e
    }
    this.#cache.clear()
    return token
  }

  async list(): Promise<TokenInfo[]> {
    const r = await this.#db.query<{ name: string; admin: boolean; scopes: Scope[]; created_at: Date; revoked_at: Date | null }>(
      `select name, admin, scopes, created_at, revoked_at from tessera.tokens order by name`,
    )
    return r.rows.map((x) => ({ name: x.name, admin: x.admin, scopes: x.scopes, createdAt: x.created_at, revoked: x.revoked_at !== null }))
  }

  async revoke(name: string): Promise<void> {
    const r = await this.#db.query(`update tessera.tokens set revoked_at = now() where name = $1 and revoked_at is null`, [name])
    if (r.affectedRows === 0) throw notFound('NOT_FOUND', `no active token named '${name}'`)
    this.#cache.clear()
  }

  /**
   * The admin token of TESSERA_ADMIN_TOKEN (containers, where no one runs `tessera token create`): it becomes the one
   * active environment admin token, so restarting with a new value revokes the previous one. Returns its name.
   */
  async setEnvAdmin(token: string): Promise<string> {
    const name = `${ENV_ADMIN}${hashToken(token).slice(0, 8)}`
    await this.#db.query(`update tessera.tokens set revoked_at = now() where starts_with(name, $1) and name <> $2 and revoked_at is null`, [ENV_ADMIN, name])
    const r = await this.#db.query(`update tessera.tokens set revoked_at = null where name = $1 and hash = $2`, [name, hashToken(token)])
    if (r.affectedRows === 0) await this.create(name, { admin: true, token })
    this.#cache.clear()
    return name
  }

  readonly authenticate: Authenticator = async (token: string) => {
    const hash = hashToken(token)
    const cached = this.#cache.get(hash)
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.principal ?? undefined
    const r = await this.#db.query<{ name: string; hash: string; admin: boolean; scopes: Scope[] }>(
      `select name, hash, admin, scopes from tessera.tokens where hash = $1 and revoked_at is null`, [hash])
    const row = r.rows[0]
    const ok = row && timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))
    const principal: Principal | null = ok ? { name: row.name, admin: row.admin, scopes: row.scopes } : null
    if (this.#cache.size > 10_000) this.#cache.clear()
    this.#cache.set(hash, { principal, at: Date.now() })
    return principal ?? undefined
  }
}
