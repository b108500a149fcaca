import { AsyncLocalStorage } from 'node:async_hooks'
import { existsSync, mkdtempSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { invalid, notFound } from '../errors.ts'
import { removeAtExit } from '../runtime/index.ts'
import { checkLocalRead, checkRemoteFetch } from './access.ts'
import { FileCache } from './cache.ts'
import { activeDestination, destinationStores } from './destination.ts'
import type { FileCacheOptions } from './cache.ts'
import { checkStoreRead } from './read-gate.ts'
import { formatMediaRef, parseMediaRef } from './refs.ts'
import type { MediaBackend } from './store.ts'
import { MediaStore } from './store.ts'

// The media environment of one database: its store (uploads, derived images, audio chunks) and its remote-file
// cache. A database runs its queries, writes and jobs inside its execution context (src/catalog/context.ts), which
// makes its environment the current one here (withMediaEnv), so functions that produce media write to the store of
// the database evaluating them, even with several databases open in one process. Code outside any database (an
// iterator run by hand) gets the most recently opened database's environment, else a temporary one. Store refs are
// content-addressed, so any open store that holds a key answers for it when a ref is read.

export interface MediaEnv {
  readonly store: MediaBackend
  readonly cache: FileCache
}

export interface MediaEnvOptions {
  /** Bound of <home>/cache in bytes (default 1 GiB). */
  readonly cacheMaxBytes?: number
  /** Limits of remote media downloads (size cap, timeouts). */
  readonly download?: FileCacheOptions['download']
}

/** <home>/media for uploads, <home>/cache for remote files. */
export function createMediaEnv(home: string, options: MediaEnvOptions = {}): MediaEnv {
  return {
    store: new MediaStore(join(home, 'media')),
    cache: new FileCache(join(home, 'cache'), cacheOptions(options)),
  }
}

function cacheOptions(o: MediaEnvOptions): FileCacheOptions {
  return { ...(o.cacheMaxBytes !== undefined ? { maxBytes: o.cacheMaxBytes } : {}), ...(o.download ? { download: o.download } : {}) }
}

const registered: MediaEnv[] = []
let fallback: MediaEnv | undefined

/** Makes an environment the current one (Tessera.open/memory call this); returns a function that unregisters it. */
export function registerMediaEnv(env: MediaEnv): () => void {
  registered.push(env)
  return () => {
    const i = registered.lastIndexOf(env)
    if (i >= 0) registered.splice(i, 1)
  }
}

const scoped = new AsyncLocalStorage<MediaEnv>()

/** Runs fn (and everything it awaits) with `env` as the current media environment: a database's context enters it. */
export function withMediaEnv<T>(env: MediaEnv, fn: () => Promise<T>): Promise<T> {
  return scoped.run(env, fn)
}

/**
 * The environment of the database whose work is running (withMediaEnv), else the most recently registered one, else
 * a process-wide one in a temp dir; inside a computed column with a destination (destination.ts), that destination
 * is its store.
 */
export function currentMediaEnv(): MediaEnv {
  const dest = activeDestination()
  const env = scoped.getStore() ?? registered[registered.length - 1] ?? (fallback ??= createFallbackEnv())
  return dest ? { ...env, store: dest } : env
}

/** The process's media environment while no database is open: in a temp folder removed when the process exits. */
function createFallbackEnv(): MediaEnv {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-media-'))
  removeAtExit(dir)
  return createMediaEnv(dir)
}

/**
 * A local file path for a media reference: local paths as they are, store refs from the store that holds them,
 * URLs through the file cache (fetched once).
 */
export async function resolveMedia(ref: string, env: MediaEnv = currentMediaEnv()): Promise<string> {
  const p = parseMediaRef(ref)
  if (!p) throw invalid('INVALID_MEDIA', `'${short(ref)}' is not a media reference (a path, file:// or http(s) URL, or a stored media:// ref)`, { ref: short(ref) })
  if (p.kind === 'path') {
    checkLocalRead(p.path)
    if (!existsSync(p.path)) throw notFound('NOT_FOUND', `media file ${p.path} does not exist`, { ref: p.path })
    return p.path
  }
  if (p.kind === 'url') {
    await checkRemoteFetch(p.url)
    return env.cache.get(p.url)
  }
  const canonical = formatMediaRef(p)
  // A scoped token reads only the store refs its tables hold (read-gate.ts), decided before any store is asked.
  await checkStoreRead(ref, canonical)
  const stores = [env.store, ...registered.map((e) => e.store).reverse(), ...(fallback ? [fallback.store] : []), ...destinationStores()]
  for (const s of stores) if (s.scheme === p.scheme && (await s.exists(canonical))) return s.path(canonical)
  // An image a read-only query derived lives in the bounded cache, not the store (reads never write).
  const derived = env.cache.derivedFile(canonical)
  if (derived) return derived
  throw notFound('NOT_FOUND', `media ${canonical} is in no open media store`, { ref: canonical })
}

/** The bytes behind a media reference. */
export async function readMedia(ref: string, env?: MediaEnv): Promise<Uint8Array> {
  return new Uint8Array(await readFile(await resolveMedia(ref, env)))
}

export const short = (s: string): string => (s.length > 60 ? `${s.slice(0, 60)}…` : s)
