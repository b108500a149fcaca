import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { notFound, invalid } from '../errors.ts'
import { parseMediaRef, STORE_SCHEME } from './refs.ts'

// Where uploaded and computed media bytes live. The interface is what the rest of Tessera uses: MediaStore is the
// local, content-addressed one; S3MediaStore (s3.ts) keeps the same keys in a bucket and reads through the file cache.

/** One stored object, as garbage collection (gc.ts) sees it. */
export interface StoredMedia {
  readonly ref: string
  readonly bytes: number
  /** Last write (a put of bytes already there counts: it renews the object, see put). */
  readonly modifiedMs: number
}

export interface MediaBackend {
  /** The ref scheme this store answers for ('media', later 's3'). */
  readonly scheme: string
  /** Stores bytes and returns their ref; storing the same bytes twice returns the same ref. */
  put(bytes: Uint8Array, ext: string): Promise<string>
  /** The bytes behind a ref; MEDIA NOT_FOUND when missing. */
  open(ref: string): Promise<Uint8Array>
  /** A local file path holding the ref's bytes (decoders such as sharp and ffmpeg want files). */
  path(ref: string): Promise<string>
  exists(ref: string): Promise<boolean>
  /** Removes the bytes; false when they were not there. */
  delete(ref: string): Promise<boolean>
  /** Every object this store holds (content-addressed keys only; anything else in its folder or prefix is left alone). */
  list(): AsyncIterable<StoredMedia>
  /** The text every ref of this store starts with ('media://', 's3://bucket/prefix/'). */
  readonly refPrefix: string
  /** True when the ref names an object of this store. */
  owns(ref: string): boolean
}

/**
 * Files under `<dir>/<2 hex>/<sha256>.<ext>`. Content addressing makes put idempotent and safe to repeat after a
 * crash; each file is written to a temp name and renamed, so a reader never sees half a file.
 */
export class MediaStore implements MediaBackend {
  readonly scheme = STORE_SCHEME
  readonly refPrefix = `${STORE_SCHEME}://`
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  async put(bytes: Uint8Array, ext: string): Promise<string> {
    const cleanExt = ext.replace(/^\./, '').toLowerCase()
    if (cleanExt && !/^[a-z0-9]{1,10}$/.test(cleanExt)) throw invalid('INVALID_MEDIA', `bad media file extension '${ext}'`)
    const sha = createHash('sha256').update(bytes).digest('hex')
    const key = cleanExt ? `${sha}.${cleanExt}` : sha
    const file = this.#file(key)
    if (!existsSync(file)) {
      await mkdir(join(this.dir, sha.slice(0, 2)), { recursive: true })
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
      await writeFile(tmp, bytes)
      await rename(tmp, file)
    } else {
      // Garbage collection spares files written within its grace period: storing bytes that were already here (an
      // orphan about to be collected) must count as a new write, or a row committed now could lose its file.
      const now = new Date()
      await utimes(file, now, now).catch(() => undefined)
    }
    return `${this.scheme}://${key}`
  }

  async open(ref: string): Promise<Uint8Array> {
    const file = await this.path(ref)
    return new Uint8Array(await readFile(file))
  }

  async path(ref: string): Promise<string> {
    const file = this.#file(this.#key(ref))
    if (!existsSync(file)) throw notFound('NOT_FOUND', `media ${ref} is not in the media store ${this.dir}`, { ref })
    return file
  }

  async exists(ref: string): Promise<boolean> {
    return existsSync(this.#file(this.#key(ref)))
  }

  async delete(ref: string): Promise<boolean> {
    const file = this.#file(this.#key(ref))
    if (!existsSync(file)) return false
    await rm(file, { force: true })
    return true
  }

  async *list(): AsyncIterable<StoredMedia> {
    if (!existsSync(this.dir)) return
    for (const shard of (await readdir(this.dir)).sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue
      for (const name of (await readdir(join(this.dir, shard)).catch(() => [] as string[])).sort()) {
        if (!name.startsWith(shard) || !/^[0-9a-f]{64}(\.[a-z0-9]{1,10})?$/.test(name)) continue // temp files, strangers
        const s = await stat(join(this.dir, shard, name)).catch(() => undefined)
        if (s?.isFile()) yield { ref: `${this.scheme}://${name}`, bytes: s.size, modifiedMs: s.mtimeMs }
      }
    }
  }

  /** True when the ref is a ref of this store's scheme. */
  owns(ref: string): boolean {
    const p = parseMediaRef(ref)
    return p?.kind === 'store' && p.scheme === this.scheme
  }

  #key(ref: string): string {
    const p = parseMediaRef(ref)
    if (p?.kind !== 'store' || p.scheme !== this.scheme) throw invalid('INVALID_MEDIA', `'${ref}' is not a ${this.scheme}:// reference`, { ref })
    return p.key
  }

  #file(key: string): string {
    return join(this.dir, key.slice(0, 2), key)
  }
}
