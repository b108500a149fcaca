// The console's only way to the server: the public HTTP API under /api/v1, through the HTTP client's transport
// (src/client) with the user's token, so an error answer is rebuilt from its code as the same error class the client
// and the library throw. The server checks every call; the scope helpers here only hide controls a token could not
// use anyway.

import type { CountAnswer, InsertRequest, QueryAnswer, QueryRequest, SearchRequest, UpdateStatus } from '../../api/index.ts'
import { HttpTransport } from '../../client/index.ts'

const TOKEN_KEY = 'tessera.token'

export interface Scope { readonly prefix: string; readonly access: 'read' | 'write' }
export interface Principal { readonly name: string; readonly admin: boolean; readonly scopes: readonly Scope[] }

// The API's answers and request bodies are typed by the one contract (src/api), which the server validates with.
export type { ColumnInfo, IndexInfo, QueryRequest, ResultColumn, SearchRequest, TableInfo } from '../../api/index.ts'
export type Result = QueryAnswer
// Errors the API answers, as the client rebuilds them (class from the code; status, code and details on it).
export { isTesseraError, NotFoundError } from '../../client/index.ts'

export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? ''
}

export function setToken(token: string, remember: boolean): void {
  sessionStorage.removeItem(TOKEN_KEY)
  localStorage.removeItem(TOKEN_KEY)
  if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token)
}

// The token is read at each request: logging in or out takes effect at once.
const transport = new HttpTransport(`${location.origin}/api/v1`, { token: getToken })

/** One API call: `path` is under /api/v1; the body is sent as JSON; a failure throws the client's TesseraError. */
export function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return transport.request<T>(method, path, body)
}

// The calls that send a body, typed by the contract's request types (what the server validates them against).
/** POST /query: rows, or { count } when the body asks for the count. */
export const runQuery = (body: QueryRequest): Promise<Result> => api<Result>('POST', '/query', body)
export const countRows = (table: string): Promise<CountAnswer> => api<CountAnswer>('POST', '/query', { table, count: true } satisfies QueryRequest)
export const search = (table: string, body: SearchRequest): Promise<Result> => api<Result>('POST', tableUrl(table, 'search'), body)
export const insertRows = (table: string, body: InsertRequest): Promise<UpdateStatus> => api<UpdateStatus>('POST', tableUrl(table, 'rows'), body)

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
