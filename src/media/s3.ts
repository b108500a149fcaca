import { createHash } from 'node:crypto'
import { AwsClient } from 'aws4fetch'
import { DomUtils, parseDocument } from 'htmlparser2'
import { invalid, notFound, TesseraError } from '../errors.ts'
import { FileCache } from './cache.ts'
import type { MediaBackend, StoredMedia } from './store.ts'

// Media in an S3-compatible bucket (AWS S3, MinIO, R2, GCS's S3 API): the same content-addressed keys as the local
// store, under s3://bucket/prefix/<sha256>.<ext>. Requests are signed with SigV4 by aws4fetch (fetch + WebCrypto, so
// the same code runs on Bun, Deno and Node; Bun's built-in S3 client does not exist on Deno). Reads go through an
// LRU file cache, because decoders (sharp, ffmpeg) want local files.

export const S3_SCHEME = 's3'
const KEY_RE = /^[0-9a-f]{64}(\.[a-z0-9]{1,10})?$/
const MIB = 1024 * 1024
/** S3's smallest part (all but the last); objects above the threshold go up in parts of partSize. */
const MIN_PART = 5 * MIB
const MAX_PARTS = 10000

export interface S3Location {
  readonly bucket: string
  /** Key prefix without slashes at either end ('' for the bucket root). */
  readonly prefix: string
}

export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

export interface S3StoreOptions extends S3Location, S3Credentials {
  /** S3-compatible endpoint (http://127.0.0.1:9000); path-style requests. Default: AWS, virtual-hosted style. */
  readonly endpoint?: string
  readonly region?: string
  /** Objects larger than this go up as multipart uploads (default 16 MiB). */
  readonly multipartThreshold?: number
  /** Part size of multipart uploads (default 8 MiB, at least 5 MiB). */
  readonly partSize?: number
  /** Folder of the local copies path() hands to decoders (an LRU file cache, bounded by cacheMaxBytes). */
  readonly cacheDir: string
  readonly cacheMaxBytes?: number
}

/** 's3://bucket/some/prefix' → { bucket, prefix }. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url.trim())
  if (!m) throw invalid('INVALID_ARGUMENT', `'${url}' is not an S3 location: use s3://bucket or s3://bucket/prefix (bucket names are 3-63 lower-case letters, digits, dots and dashes)`)
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '')
  if (prefix.split('/').some((p) => p === '.' || p === '..')) throw invalid('INVALID_ARGUMENT', `S3 prefix '${prefix}' may not contain '.' or '..' segments`)
  return { bucket: m[1]!, prefix }
}

/** Endpoint, region and credentials from the usual AWS environment variables. */
export function s3SettingsFromEnv(env: Record<string, string | undefined> = process.env): Omit<S3StoreOptions, keyof S3Location | 'cacheDir' | 'cacheMaxBytes'> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY
  if (!accessKeyId || !secretAccessKey) {
    throw invalid('INVALID_ARGUMENT', 'an s3:// media store needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones); AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for MinIO, R2 or GCS')
  }
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION
  return {
    accessKeyId, secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
  }
}

export class S3MediaStore implements MediaBackend {
  readonly scheme = S3_SCHEME
  readonly refPrefix: string
  readonly bucket: string
  readonly prefix: string
  readonly multipartThreshold: number
  readonly partSize: number
  readonly #client: AwsClient
  readonly #base: string
  readonly #cache: FileCache
  /** Refs deleted by this process: their local copies (the cache cannot drop single files) no longer count. */
  readonly #deleted = new Set<string>()

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket
    this.prefix = options.prefix
    this.refPrefix = `${S3_SCHEME}://${this.bucket}/${this.prefix ? `${this.prefix}/` : ''}`
    this.partSize = Math.max(MIN_PART, Math.floor(options.partSize ?? 8 * MIB))
    this.multipartThreshold = Math.max(this.partSize, Math.floor(options.multipartThreshold ?? 16 * MIB))
    const region = options.region ?? 'us-east-1'
    if (options.endpoint) {
      let u: URL
      try {
        u = new URL(options.endpoint)
      } catch {
        throw invalid('INVALID_ARGUMENT', `S3 endpoint '${options.endpoint}' is not a URL`)
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('INVALID_ARGUMENT', `S3 endpoint '${options.endpoint}' must be http(s)`)
      this.#base = `${u.origin}${u.pathname.replace(/\/+$/, '')}/${this.bucket}`
    } else {
      this.#base = `https://${this.bucket}.s3.${region}.amazonaws.com`
    }
    this.#client = new AwsClient({
      accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey,
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
      service: 's3', region, retries: 3,
    })
    // The cache's downloads are signed GETs of the object a ref names.
    this.#cache = new FileCache(options.cacheDir, {
      ...(options.cacheMaxBytes !== undefined ? { maxBytes: options.cacheMaxBytes } : {}),
      fetch: (ref) => this.#request('GET', this.#keyOf(ref), { what: `read ${ref}`, ref }),
    })
  }

  /** The local copies (tests and stats). */
  get cache(): FileCache {
    return this.#cache
  }

  /** Where this store keeps its objects, for messages. */
  get location(): string {
    return this.refPrefix.replace(/\/$/, '')
  }

  async put(bytes: Uint8Array, ext: string): Promise<string> {
    const cleanExt = ext.replace(/^\./, '').toLowerCase()
    if (cleanExt && !/^[a-z0-9]{1,10}$/.test(cleanExt)) throw invalid('INVALID_MEDIA', `bad media file extension '${ext}'`)
    const sha = createHash('sha256').update(bytes).digest('hex')
    const name = cleanExt ? `${sha}.${cleanExt}` : sha
    // Always written, even when present: the write renews the object's time, which garbage collection's grace
    // period goes by (the same bytes may be an orphan about to be collected).
    if (bytes.length > this.multipartThreshold) await this.#putMultipart(this.#objectKey(name), bytes)
    else await this.#request('PUT', this.#objectKey(name), { body: bytes, what: `upload ${this.refPrefix}${name}` })
    this.#deleted.delete(`${this.refPrefix}${name}`)
    return `${this.refPrefix}${name}`
  }

  async open(ref: string): Promise<Uint8Array> {
    const res = await this.#request('GET', this.#keyOf(ref), { what: `read ${ref}`, ref })
    return new Uint8Array(await res.arrayBuffer())
  }

  /** A local copy from the file cache (downloaded on first use, evicted least recently used). */
  async path(ref: string): Promise<string> {
    this.#keyOf(ref)
    // A missing object is NOT_FOUND, not a failed download.
    if (!this.#cached(ref) && !(await this.#headOk(ref))) throw notFound('NOT_FOUND', `media ${ref} is not in the media store ${this.location}`, { ref })
    return this.#cache.get(ref)
  }

  async exists(ref: string): Promise<boolean> {
    if (!this.owns(ref)) return false
    if (this.#cached(ref)) return true
    const res = await this.#request('HEAD', this.#keyOf(ref), { what: `look up ${ref}`, allow404: true })
    return res.status !== 404
  }

  async delete(ref: string): Promise<boolean> {
    if (!this.owns(ref) || !(await this.#headOk(ref))) return false
    await this.#request('DELETE', this.#keyOf(ref), { what: `delete ${ref}` })
    this.#deleted.add(ref)
    return true
  }

  #cached(ref: string): boolean {
    return !this.#deleted.has(ref) && this.#cache.has(ref)
  }

  async *list(): AsyncIterable<StoredMedia> {
    let token: string | undefined
    const keyPrefix = this.prefix ? `${this.prefix}/` : ''
    do {
      const q = new URLSearchParams({ 'list-type': '2', prefix: keyPrefix, 'max-keys': '1000' })
      if (token) q.set('continuation-token', token)
      const res = await this.#request('GET', '', { query: q, what: `list ${this.location}` })
      const doc = parseDocument(await res.text(), { xmlMode: true })
      for (const c of DomUtils.getElementsByTagName('Contents', doc)) {
        const key = childText(c, 'Key')
        const name = key.slice(keyPrefix.length)
        if (!key.startsWith(keyPrefix) || !KEY_RE.test(name)) continue // another tool's objects: not ours to collect
        yield { ref: `${this.refPrefix}${name}`, bytes: Number(childText(c, 'Size')), modifiedMs: Date.parse(childText(c, 'LastModified')) }
      }
      const truncated = DomUtils.getElementsByTagName('IsTruncated', doc)[0]
      token = truncated && DomUtils.textContent(truncated) === 'true' ? DomUtils.textContent(DomUtils.getElementsByTagName('NextContinuationToken', doc)[0]!) : undefined
    } while (token)
  }

  owns(ref: string): boolean {
    return ref.startsWith(this.refPrefix) && KEY_RE.test(ref.slice(this.refPrefix.length))
  }

  async #headOk(ref: string): Promise<boolean> {
    const res = await this.#request('HEAD', this.#keyOf(ref), { what: `look up ${ref}`, allow404: true })
    return res.status !== 404
  }

  async #putMultipart(key: string, bytes: Uint8Array): Promise<void> {
    const what = `upload ${this.bucket}/${key}`
    const partSize = Math.max(this.partSize, Math.ceil(bytes.length / MAX_PARTS))
    const created = await this.#request('POST', key, { query: new URLSearchParams({ uploads: '' }), what })
    const uploadId = DomUtils.textContent(DomUtils.getElementsByTagName('UploadId', parseDocument(await created.text(), { xmlMode: true }))[0] ?? [])
    if (!uploadId) throw new TesseraError('UNAVAILABLE', `${what}: the S3 server started no multipart upload (no UploadId)`)
    try {
      const parts: string[] = []
      for (let n = 1, start = 0; start < bytes.length; n++, start += partSize) {
        const res = await this.#request('PUT', key, { query: new URLSearchParams({ partNumber: String(n), uploadId }), body: bytes.subarray(start, start + partSize), what: `${what} (part ${n})` })
        const etag = res.headers.get('etag')
        if (!etag) throw new TesseraError('UNAVAILABLE', `${what}: part ${n} came back without an ETag`)
        parts.push(`<Part><PartNumber>${n}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`)
      }
      const body = `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`
      const done = await this.#request('POST', key, { query: new URLSearchParams({ uploadId }), body: new TextEncoder().encode(body), what: `${what} (complete)` })
      // S3 may answer 200 with an error document when completion fails late.
      const text = await done.text()
      if (/<Error>/.test(text)) throw s3Error(what, 500, text)
    } catch (e) {
      await this.#request('DELETE', key, { query: new URLSearchParams({ uploadId }), what: `${what} (abort)`, allow404: true }).catch(() => undefined)
      throw e
    }
  }

  async #request(method: string, key: string, o: { body?: Uint8Array; query?: URLSearchParams; what: string; allow404?: boolean; ref?: string }): Promise<Response> {
    const url = `${this.#base}/${key.split('/').map(encodeURIComponent).join('/')}${o.query ? `?${o.query.toString().replace(/=(&|$)/g, '$1')}` : ''}`
    let res: Response
    try {
      res = await this.#client.fetch(url, { method, ...(o.body ? { body: o.body as unknown as BodyInit } : {}) })
    } catch (e) {
      throw new TesseraError('UNAVAILABLE', `could not ${o.what}: S3 endpoint ${this.#base} unreachable (${(e as Error).message})`, undefined, { cause: e })
    }
    if (res.ok || (o.allow404 && res.status === 404)) return res
    const text = method === 'HEAD' ? '' : await res.text().catch(() => '')
    if (res.status === 404 && o.ref) throw notFound('NOT_FOUND', `media ${o.ref} is not in the media store ${this.location}`, { ref: o.ref })
    throw s3Error(`could not ${o.what}`, res.status, text)
  }

  #objectKey(name: string): string {
    return this.prefix ? `${this.prefix}/${name}` : name
  }

  #keyOf(ref: string): string {
    if (!this.owns(ref)) throw invalid('INVALID_MEDIA', `'${ref}' is not an object of the media store ${this.location}`, { ref })
    return this.#objectKey(ref.slice(this.refPrefix.length))
  }
}

function childText(el: Parameters<typeof DomUtils.getElementsByTagName>[1], tag: string): string {
  const c = DomUtils.getElementsByTagName(tag, el, true, 1)[0]
  return c ? DomUtils.textContent(c) : ''
}

function escapeXml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

/** An S3 error document (<Code>, <Message>) as a TesseraError; refused credentials say which variables to check. */
function s3Error(what: string, status: number, xml: string): TesseraError {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? `HTTP ${status}`
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? ''
  const auth = status === 403 || /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|ExpiredToken/.test(code)
  const hint = auth ? ' (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and that they may use this bucket)' : ''
  return new TesseraError('UNAVAILABLE', `${what}: S3 answered ${status} ${code}${message ? `: ${message}` : ''}${hint}`, { status, s3Code: code })
}
