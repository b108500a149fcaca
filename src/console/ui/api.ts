// The console's only way to the server: the public HTTP API under /api/v1, with the user's token. The server
// checks every call; the scope helpers here only hide controls a token could not use anyway.

import type { QueryAnswer } from '../../api/index.ts'

const TOKEN_KEY = 'tessera.token'

export interface Scope { readonly prefix: string; readonly access: 'read' | 'write' }
export interface Principal { readonly name: string; readonly admin: boolean; readonly scopes: readonly Scope[] }

// The API's answers are typed by the one contract (src/api), which the server's answers are checked against.
export type { ColumnInfo, IndexInfo, ResultColumn, TableInfo } from '../../api/index.ts'
export type Result = QueryAnswer

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: Record<string, unknown> | undefined
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}

export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? ''
}

export function setToken(token: string, remember: boolean): void {
  sessionStorage.removeItem(TOKEN_KEY)
  localStorage.removeItem(TOKEN_KEY)
  if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token)
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const token = getToken()
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  let data: unknown
  try { data = text ? JSON.parse(text) : undefined } catch { data = undefined }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error
    throw new ApiError(res.status, e?.code ?? 'HTTP_ERROR', e?.message ?? `HTTP ${res.status}`, e?.details)
  }
  return data as T
}

/** Table paths contain '/', which the API keeps as is; each segment is still URL-encoded. */
export const tableUrl = (path: string, action?: string): string =>
  `/tables/${path.split('/').map(encodeURIComponent).join('/')}${action ? `/-/${action}` : ''}`

/** A URL for <img>/<audio> tags, which cannot send headers: the token goes in the query string. */
export function mediaUrl(table: string, column: string, ref: string, thumb?: number): string {
  const q = new URLSearchParams({ column, ref })
  if (thumb) q.set('w', String(thumb))
  const token = getToken()
  if (token) q.set('token', token)
  return `/api/v1${tableUrl(table, 'media')}?${q}`
}

const covers = (prefix: string, path: string): boolean => prefix === '' || path === prefix || path.startsWith(`${prefix}/`)

export function canWrite(p: Principal | undefined, path: string): boolean {
  if (!p) return false
  return p.admin || p.scopes.some((s) => s.access === 'write' && covers(s.prefix, path.replace(/:\d+$/, '')))
}
