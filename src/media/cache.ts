import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { rename, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { invalid } from '../errors.ts'
import { extensionOf } from './refs.ts'

// Remote media (http/https) is fetched once into <home>/cache and read from there afterwards. The cache is bounded
// in bytes and evicts the least recently used file; recency survives restarts through file mtimes (touched on use).

export const DEFAULT_CACHE_BYTES = 1024 * 1024 * 1024

export interface FileCacheOptions {
  /** Upper bound of the cache's total file size (default 1 GiB). The newest file is kept even when it alone exceeds it. */
  readonly maxBytes?: number
  /** Custom fetch (tests, auth headers). */
  readonly fetch?: (url: string) => Promise<Response>
}

export class FileCache {
  readonly dir: string
  readonly maxBytes: number
  readonly #fetch: (url: string) => Promise<Response>
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
    this.#fetch = options.fetch ?? ((url) => fetch(url))
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
    const key = cacheKey(url)
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

  has(url: string): boolean {
    this.#load()
    return this.#entries.has(cacheKey(url))
  }

  async #download(url: string, key: string, file: string): Promise<string> {
    let res: Response
    try {
      res = await this.#fetch(url)
    } catch (e) {
      throw invalid('INVALID_MEDIA', `could not fetch ${url}: ${(e as Error).message}`, { url })
    }
    if (!res.ok) throw invalid('INVALID_MEDIA', `could not fetch ${url}: HTTP ${res.status}`, { url, status: res.status })
    const bytes = new Uint8Array(await res.arrayBuffer())
    mkdirSync(this.dir, { recursive: true })
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    await writeFile(tmp, bytes)
    await rename(tmp, file)
    this.fetches++
    const old = this.#entries.get(key)
    if (old !== undefined) this.#total -= old
    this.#entries.delete(key)
    this.#entries.set(key, bytes.length)
    this.#total += bytes.length
    await this.#evict(key)
    return file
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

function cacheKey(url: string): string {
  const ext = extensionOf(new URL(url).pathname)
  const sha = createHash('sha256').update(url).digest('hex')
  return /^[a-z0-9]{1,10}$/.test(ext) ? `${sha}.${ext}` : sha
}
