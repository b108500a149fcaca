import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { invalid } from '../errors.ts'
import { join } from 'node:path'
import { currentMediaAccess } from './access.ts'
import { downloadOutbound } from './outbound/index.ts'
import type { OutboundOptions } from './outbound/index.ts'
import { extensionOf, STORE_SCHEME } from './refs.ts'

// Remote media (http/https) is fetched once into <home>/cache and read from there afterwards. The cache is bounded
// in bytes and evicts the least recently used file; recency survives restarts through file mtimes (touched on use).
// Downloads go through the one outbound fetcher (size cap, timeouts, address checks on every redirect hop). What was
// fetched with internal addresses allowed (an admin, in-process use) is cached apart from what was fetched without,
// so a tenant never gets, from the cache, an answer its own fetch would have been refused.

export const DEFAULT_CACHE_BYTES = 1024 * 1024 * 1024

export interface FileCacheOptions {
  /** Upper bound of the cache's total file size (default 1 GiB). The newest file is kept even when it alone exceeds it. */
  readonly maxBytes?: number
  /** Limits and settings of each download (size cap, timeouts; see downloadOutbound). */
  readonly download?: OutboundOptions
  /**
   * Downloads through this instead of the outbound fetcher: the S3 media store's signed GETs of its own objects, at
   * the endpoint the operator configured (not a URL a caller chose, so the address checks do not apply).
   */
  readonly fetch?: (key: string) => Promise<Response>
}

export class FileCache {
  readonly dir: string
  readonly maxBytes: number
  readonly #options: OutboundOptions
  readonly #fetch: ((key: string) => Promise<Response>) | undefined
  /** key → size, in recency order (first = least recently used). */
  readonly #entries = new Map<string, number>()
  readonly #pending = new Map<string, Promise<string>>()
  #total = 0
  #loaded = false
  /** Downloads done (cache misses), for tests and stats. */
  fetches = 0

  constructor(dir: string, options: FileCacheOptions = {}) {
    this.dir = dir
    this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES
    this.#options = options.download ?? {}
    this.#fetch = options.fetch
  }

  get totalBytes(): number {
    this.#load()
    return this.#total
  }

  /** Cached entries' keys, least recently used first. */
  keys(): string[] {
    this.#load()
    return [...this.#entries.keys()]
  }

  /** Local path of the URL's bytes, downloading them on the first use. */
  async get(url: string): Promise<string> {
    this.#load()
    const key = cacheKey(url, privateReach())
    const file = join(this.dir, key)
    if (this.#entries.has(key) && existsSync(file)) {
      this.#touch(key)
      await utimes(file, new Date(), new Date()).catch(() => undefined)
      return file
    }
    let p = this.#pending.get(key)
    if (!p) {
      p = this.#download(url, key, file).finally(() => this.#pending.delete(key))
      this.#pending.set(key, p)
    }
    return p
  }

  /**
   * Keeps a derived file (an image a read-only query made) in the cache instead of the media store: reads never
   * write to the store, and what they derive is bounded and evicted like any cached file. Returns the same
   * content-addressed 'media://<sha256>.<ext>' ref the store would, which resolveMedia also finds here.
   */
  async putDerived(bytes: Uint8Array, ext: string): Promise<string> {
    this.#load()
    const cleanExt = ext.replace(/^\./, '').toLowerCase()
    if (cleanExt && !/^[a-z0-9]{1,10}$/.test(cleanExt)) throw new TypeError(`bad media file extension '${ext}'`)
    const sha = createHash('sha256').update(bytes).digest('hex')
    const ref = `${STORE_SCHEME}://${cleanExt ? `${sha}.${cleanExt}` : sha}`
    const key = derivedKey(ref)
    const file = join(this.dir, key)
    if (this.#entries.has(key) && existsSync(file)) {
      this.#touch(key)
      return ref
    }
    mkdirSync(this.dir, { recursive: true })
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    await writeFile(tmp, bytes)
    await rename(tmp, file)
    const old = this.#entries.get(key)
    if (old !== undefined) this.#total -= old
    this.#entries.delete(key)
    this.#entries.set(key, bytes.length)
    this.#total += bytes.length
    await this.#evict(key)
    return ref
  }

  /** The file of a derived 'media://' ref kept here, or undefined (never made, or evicted). */
  derivedFile(ref: string): string | undefined {
    this.#load()
    const key = derivedKey(ref)
    const file = join(this.dir, key)
    if (!this.#entries.has(key) || !existsSync(file)) return undefined
    this.#touch(key)
    return file
  }

  has(url: string): boolean {
    this.#load()
    return this.#entries.has(cacheKey(url, privateReach()))
  }

  async #download(url: string, key: string, file: string): Promise<string> {
    mkdirSync(this.dir, { recursive: true })
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    const size = this.#fetch ? await this.#downloadWith(this.#fetch, url, tmp) : (await downloadOutbound(url, tmp, this.#options)).bytes
    await rename(tmp, file)
    this.fetches++
    const old = this.#entries.get(key)
    if (old !== undefined) this.#total -= old
    this.#entries.delete(key)
    this.#entries.set(key, size)
    this.#total += size
    await this.#evict(key)
    return file
  }

  async #downloadWith(fetchFn: (key: string) => Promise<Response>, url: string, tmp: string): Promise<number> {
    const res = await fetchFn(url)
    if (!res.ok || !res.body) throw invalid('INVALID_MEDIA', `could not fetch ${url}: HTTP ${res.status}`, { url, status: res.status })
    try {
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(tmp))
    } catch (e) {
      await rm(tmp, { force: true })
      throw e
    }
    return (await stat(tmp)).size
  }

  async #evict(keep: string): Promise<void> {
    for (const [key, size] of this.#entries) {
      if (this.#total <= this.maxBytes) break
      if (key === keep) continue
      this.#entries.delete(key)
      this.#total -= size
      await rm(join(this.dir, key), { force: true })
    }
  }

  #touch(key: string): void {
    const size = this.#entries.get(key)!
    this.#entries.delete(key)
    this.#entries.set(key, size)
  }

  #load(): void {
    if (this.#loaded) return
    this.#loaded = true
    if (!existsSync(this.dir)) return
    const found = readdirSync(this.dir)
      .filter((n) => !n.endsWith('.tmp'))
      .map((n) => ({ n, s: statSync(join(this.dir, n)) }))
      .filter((x) => x.s.isFile())
      .sort((a, b) => a.s.mtimeMs - b.s.mtimeMs)
    for (const { n, s } of found) {
      this.#entries.set(n, s.size)
      this.#total += s.size
    }
  }
}

/** Whether the current work may reach internal addresses (as downloadOutbound decides it). */
const privateReach = (): boolean => {
  const access = currentMediaAccess()
  return !access || !!access.privateUrls
}

/** Derived files are named after their content hash, apart from URL entries (which are hashes of URLs). */
const derivedKey = (ref: string): string => `derived-${ref.slice(ref.indexOf('://') + 3).replace(/[^0-9a-z.]/g, '')}`

function cacheKey(url: string, privateReach: boolean): string {
  const ext = extensionOf(new URL(url).pathname)
  const sha = createHash('sha256').update(privateReach ? `${url}\u0000private` : url).digest('hex')
  return /^[a-z0-9]{1,10}$/.test(ext) ? `${sha}.${ext}` : sha
}
