import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// A media cell stores one text reference. Four forms exist: an absolute local path, an http(s) URL, a store ref
// ('media://<sha256>.<ext>', bytes a user uploaded, kept by a MediaStore) and, later, other store schemes (s3://).
// Keeping store refs logical (not absolute paths) lets a data dir move without rewriting its rows.

export type MediaRef =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'store'; readonly scheme: string; readonly key: string }

export const STORE_SCHEME = 'media'
const STORE_KEY_RE = /^[0-9a-f]{64}(\.[a-z0-9]{1,10})?$/

/** Classifies a reference; relative paths resolve against the current directory. Returns undefined for junk. */
export function parseMediaRef(ref: string): MediaRef | undefined {
  if (ref.length === 0) return undefined
  if (/^https?:\/\//i.test(ref)) {
    try {
      return { kind: 'url', url: new URL(ref).href }
    } catch {
      return undefined
    }
  }
  if (/^file:\/\//i.test(ref)) {
    try {
      return { kind: 'path', path: fileURLToPath(ref) }
    } catch {
      return undefined
    }
  }
  const store = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/i.exec(ref)
  if (store) {
    const scheme = store[1]!.toLowerCase()
    if (scheme === STORE_SCHEME && !STORE_KEY_RE.test(store[2]!)) return undefined
    return { kind: 'store', scheme, key: store[2]! }
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) return undefined // data:, mailto:, ...
  return { kind: 'path', path: isAbsolute(ref) ? ref : resolve(ref) }
}

/** The canonical text form stored in a cell. */
export function formatMediaRef(ref: MediaRef): string {
  if (ref.kind === 'path') return ref.path
  if (ref.kind === 'url') return ref.url
  return `${ref.scheme}://${ref.key}`
}

/** Lower-case extension without the dot ('' when none), from a path, URL or store key. */
export function extensionOf(ref: string): string {
  const clean = ref.replace(/[?#].*$/, '')
  const base = clean.slice(clean.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : ''
}
