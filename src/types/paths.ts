import { invalid } from '../errors.ts'
import { checkNotReserved } from './names.ts'

// Paths name dirs and tables: 'prod_app/docs'. A ':N' suffix names a version of a table ('prod_app/docs:3').
// Browser-safe (no Buffer, no catalog): the HTTP client checks a path with these same rules before it puts it in a
// URL (src/client/urls.ts), so it refuses what the library refuses, with the same error.

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const MAX_NAME = 63

export function checkName(name: string, what = 'name'): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > MAX_NAME) {
    throw invalid('INVALID_NAME', `invalid ${what} ${JSON.stringify(name)}: use letters, digits and _, starting with a letter or _, at most ${MAX_NAME} characters`, { name })
  }
  // '__proto__', 'constructor', 'prototype' pass the pattern but lose data as keys of plain objects (src/types/names.ts).
  // Checked for column names only: table and dir paths are also looked up by this check, and an existing table so
  // named must stay reachable (to be renamed or dropped).
  return what === 'column name' ? checkNotReserved(name, what) : name
}

export interface ParsedPath {
  readonly path: string
  readonly parts: readonly string[]
  readonly version?: number
}

export function parsePath(input: string, options: { allowVersion?: boolean; allowRoot?: boolean } = {}): ParsedPath {
  if (typeof input !== 'string') throw invalid('INVALID_NAME', `path must be a string, got ${typeof input}`)
  let s = input.trim().replace(/^\/+|\/+$/g, '')
  let version: number | undefined
  const colon = s.lastIndexOf(':')
  if (colon >= 0) {
    const v = s.slice(colon + 1)
    if (!options.allowVersion) throw invalid('INVALID_NAME', `a version (':${v}') is not allowed in path '${input}' here`)
    if (!/^\d+$/.test(v)) throw invalid('INVALID_NAME', `bad version ':${v}' in path '${input}'; expected 'name:N'`)
    version = Number(v)
    // Versions are Postgres integers: a number past them names no version (and would come back rounded).
    if (version > 2_147_483_647) throw invalid('INVALID_NAME', `bad version ':${v}' in path '${input}': versions are numbered from 0 to 2147483647`)
    s = s.slice(0, colon)
  }
  if (s === '') {
    if (options.allowRoot) return { path: '', parts: [] }
    throw invalid('INVALID_NAME', 'empty path')
  }
  const parts = s.split('/')
  parts.forEach((p) => checkName(p, `path component in '${input}'`))
  return version === undefined ? { path: parts.join('/'), parts } : { path: parts.join('/'), parts, version }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

export const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1)
