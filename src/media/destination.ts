import { AsyncLocalStorage } from 'node:async_hooks'
import { join } from 'node:path'
import { openMediaStore } from './backends.ts'
import { currentMediaEnv } from './env.ts'
import { parseS3Url } from './s3.ts'
import type { MediaBackend } from './store.ts'
import { MediaStore } from './store.ts'

// A computed media column's `destination` (Pixeltable's destination=): the store its values are written to, instead
// of the database's. Functions that produce media write to currentMediaEnv().store, so a computed column's
// evaluation runs inside withMediaDestination, which makes its destination the current store. Destinations stay
// open for the life of the process, so refs written there resolve on later reads (resolveMedia looks here too).

const active = new AsyncLocalStorage<MediaBackend>()
const opened = new Map<string, MediaBackend>()

/** The stored form of a destination: 's3://bucket/prefix' or an absolute folder. */
export function canonicalDestination(spec: string): string {
  const s = String(spec ?? '').trim()
  if (/^s3:\/\//i.test(s)) {
    const { bucket, prefix } = parseS3Url(s)
    return `s3://${bucket}${prefix ? `/${prefix}` : ''}`
  }
  const store = openMediaStore(s, { cacheDir: '' })
  return (store as MediaStore).dir
}

/** The store of a destination, opened once per process (S3 credentials from the AWS variables). */
export function destinationStore(spec: string): MediaBackend {
  const key = canonicalDestination(spec)
  let store = opened.get(key)
  if (!store) {
    store = openMediaStore(key, { cacheDir: join(currentMediaEnv().cache.dir, '..', 'cache-s3') })
    opened.set(key, store)
  }
  return store
}

/** Runs fn with `spec`'s store as the current media store (fn and everything it awaits); no spec: as is. */
export function withMediaDestination<T>(spec: string | undefined, fn: () => Promise<T>): Promise<T> {
  return spec ? active.run(destinationStore(spec), fn) : fn()
}

export function activeDestination(): MediaBackend | undefined {
  return active.getStore()
}

/** Every destination opened in this process. */
export function destinationStores(): MediaBackend[] {
  return [...opened.values()]
}
