import { notFound } from '../errors.ts'
import { encodePath } from './http.ts'
import { checkName, parsePath } from '../types/paths.ts'

// The one place where the client turns names into URL paths. A name pasted into a URL as it is can reach another
// route: 'docs/-/columns/extra' drops a column, 'docs?force=true' force-drops a table, '../dirs' leaves /tables, and
// 't2#x' names 't2'. So table and dir paths are checked by the library's rules first (src/types/paths.ts: the same
// INVALID_NAME errors as in process), then every segment is percent-encoded; other names (columns, indexes, job ids)
// are one encoded segment each.

/**
 * A table path as the API routes take it ('prod_app/docs', 'docs:3'): checked as the library checks it, each
 * segment encoded, the '/' between them kept (the TABLE route pattern reads them as segments), ':N' kept as it is.
 */
export function tablePathSegments(path: string, options: { allowVersion?: boolean } = {}): string {
  const parsed = parsePath(path, { allowVersion: options.allowVersion ?? false })
  return `${encodePath(parsed.path)}${parsed.version !== undefined ? `:${parsed.version}` : ''}`
}

/** '/api/v1/tables/<path>' (versions allowed: reads of 'docs:3' go there). */
export const tableUrl = (path: string, options: { allowVersion?: boolean } = {}): string => `/api/v1/tables/${tablePathSegments(path, options)}`

/** A dir path as /api/v1/dirs/<path> takes it; the root cannot be named (db.dropDir('') is refused in process too). */
export const dirUrl = (path: string): string => `/api/v1/dirs/${encodePath(parsePath(path).path)}`

// '.' and '..' resolve as dot segments in any URL, percent-encoded ('%2e') or not, so they cannot travel as a
// segment; '' would leave the segment out. None of them is a valid name.
const NOT_A_SEGMENT = new Set(['', '.', '..'])

/**
 * A column or index name as one URL segment. Others travel encoded and the server checks them (INVALID_NAME for one
 * no column can have); only names that cannot be a segment are refused here, with the error the server gives.
 */
export function nameSegment(name: string): string {
  if (typeof name !== 'string' || NOT_A_SEGMENT.has(name)) {
    checkName(name)
    // Unreachable (checkName refuses all of these); kept so that no such name can ever be sent.
    throw new TypeError(`invalid name ${JSON.stringify(name)}`)
  }
  return encodeURIComponent(name)
}

/** A job id (the server's key for it) as one URL segment; one that cannot be a segment names no job (as the server says). */
export function jobIdSegment(id: string): string {
  if (typeof id !== 'string' || NOT_A_SEGMENT.has(id)) throw notFound('JOB_NOT_FOUND', `no job '${String(id).slice(0, 40)}'; GET /api/v1/jobs lists the jobs this token can see`)
  return encodeURIComponent(id)
}
