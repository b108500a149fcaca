// The console's only way to the server: the public HTTP API under /api/v1, through the HTTP client's transport
// (src/client) with the user's token, so an error answer is rebuilt from its code as the same error class the client
// and the library throw. The server checks every call; the scope helpers here only hide controls a token could not
// use anyway.

import type { CountAnswer, DirListAnswer, InsertRequest, JobEventsParams, ListDirsParams, ListTablesParams, MediaParams, PrincipalAnswer, QueryAnswer, QueryRequest, SearchRequest, TableListAnswer, UpdateStatus } from '../../api/index.ts'
import { HttpTransport, queryString } from '../../client/index.ts'

const TOKEN_KEY = 'tessera.token'

/** The signed-in token, as GET /whoami answers it. */
export type Principal = PrincipalAnswer

// The API's answers and request bodies are typed by the one contract (src/api), which the server validates with.
export type { ColumnInfo, DocumentPreview, IndexInfo, HistoryAnswer, JobInfoWire as Job, JobListAnswer, QueryRequest, ResultColumn, SearchRequest, TableInfo, VersionInfoWire as Version } from '../../api/index.ts'
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
export const whoami = (): Promise<Principal> => api<Principal>('GET', '/whoami')
/** Every dir and table (the tree), whatever the token may list. */
export const listAll = async (): Promise<{ dirs: string[]; tables: string[] }> => {
  const [d, t] = await Promise.all([
    api<DirListAnswer>('GET', `/dirs${queryString<typeof ListDirsParams>({ recursive: true })}`),
    api<TableListAnswer>('GET', `/tables${queryString<typeof ListTablesParams>({ recursive: true })}`),
  ])
  return { dirs: d.dirs, tables: t.tables }
}

/** Table paths contain '/', which the API keeps as is; each segment is still URL-encoded. */
export const tableUrl = (path: string, action?: string): string =>
  `/tables/${path.split('/').map(encodeURIComponent).join('/')}${action ? `/-/${action}` : ''}`

/** A URL for <img>/<audio> tags, which cannot send headers: the token goes in the query string. */
export function mediaUrl(table: string, column: string, ref: string, thumb?: number): string {
  return `/api/v1${tableUrl(table, 'media')}${queryString<typeof MediaParams>({ column, ref, ...(thumb ? { w: thumb } : {}), token: getToken() || undefined })}`
}

/** A document's text preview (GET …/-/media?preview=text; JSON, so it goes with the header like any call). */
export const mediaPreviewUrl = (table: string, column: string, ref: string): string =>
  `${tableUrl(table, 'media')}${queryString<typeof MediaParams>({ column, ref, preview: 'text' })}`

/** Server-sent progress of a job (EventSource cannot send headers: the token goes in the query string). */
export const jobEventsUrl = (id: string, intervalMs: number): string =>
  `/api/v1/jobs/${encodeURIComponent(id)}/events${queryString<typeof JobEventsParams & { token: typeof MediaParams.token }>({ intervalMs, token: getToken() || undefined })}`

const covers = (prefix: string, path: string): boolean => prefix === '' || path === prefix || path.startsWith(`${prefix}/`)

export function canWrite(p: Principal | undefined, path: string): boolean {
  if (!p) return false
  return p.admin || p.scopes.some((s) => s.access === 'write' && covers(s.prefix, path.replace(/:\d+$/, '')))
}
