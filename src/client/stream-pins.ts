import { TesseraError } from '../errors.ts'
import type { QuerySpec, SourceRef } from '../query/spec.ts'
import type { HttpTransport } from './http.ts'
import { toError } from './http.ts'
import { tableUrl } from './urls.ts'

// stream() over HTTP pins each table at a version ('t:5') and reads pages of POST /query there. A revert frees
// version 5's number and the next write takes it again, so without a check a later page would read another commit's
// rows. As in process (QueryExecutor.watchVersion), each pinned version is known by its commit stamp: GET
// /tables/t:5 answers it in a header, and after every page the same GET with ?stamp= asks the server whether it still
// holds; the server answers the stream's error (CONCURRENCY_CONFLICT for a revert, TABLE_NOT_FOUND for a drop), as
// src/server/version-stamps.ts decides.

/** The answer header with a pinned version's stamp (src/server/version-stamps.ts sets it). */
const STAMP_HEADER = 'tessera-version-stamp'
/** Stamps kept to explain failed page reads; streams pin a table or two each, so this many is plenty. */
const KEPT = 64

export class StreamPins {
  readonly #http: HttpTransport
  /** 'path:N' → the stamp a stream of this executor pinned it at (the oldest pin goes first when full). */
  readonly #stamps = new Map<string, string>()

  constructor(http: HttpTransport) {
    this.#http = http
  }

  /** QueryExecutor.watchVersion: the stamp of version `version` now, and a check that it still holds. */
  async watch(source: SourceRef, version: number): Promise<() => Promise<void>> {
    const ref = `${source.path}:${version}`
    const stamp = (await this.#get(tableUrl(ref, { allowVersion: true }))).headers.get(STAMP_HEADER)
    // A server without stamps cannot tell a revert: the stream goes unchecked there, as the interface allows.
    if (stamp === null) return async () => undefined
    this.#stamps.delete(ref)
    this.#stamps.set(ref, stamp)
    if (this.#stamps.size > KEPT) this.#stamps.delete(this.#stamps.keys().next().value!)
    return () => this.#check(ref, stamp)
  }

  /**
   * The error a failed read should report. A page of a pinned version fails before the stream's check can run: with
   * VERSION_NOT_FOUND once a revert popped the version, TABLE_NOT_FOUND once the table was dropped. Where the read
   * names a version a stream pinned here, the pin's check says what happened (reverted, dropped); else `error` itself.
   */
  async explain(spec: QuerySpec<SourceRef>, error: unknown): Promise<unknown> {
    if (!(error instanceof TesseraError) || (error.code !== 'VERSION_NOT_FOUND' && error.code !== 'TABLE_NOT_FOUND')) return error
    for (const source of [spec.from, ...spec.joins.map((j) => j.source)]) {
      if (source.version === undefined) continue
      const ref = `${source.path}:${source.version}`
      const stamp = this.#stamps.get(ref)
      if (stamp === undefined) continue
      try {
        await this.#check(ref, stamp)
      } catch (e) {
        return e
      }
    }
    return error
  }

  async #check(ref: string, stamp: string): Promise<void> {
    await this.#get(`${tableUrl(ref, { allowVersion: true })}?stamp=${encodeURIComponent(stamp)}`)
  }

  /** A GET whose answer headers are needed (HttpTransport.request gives the body only); errors as request() throws them. */
  async #get(url: string): Promise<Response> {
    const res = await this.#http.raw('GET', url)
    const text = await res.text()
    if (!res.ok) throw toError(res.status, text ? JSON.parse(text) : undefined)
    return res
  }
}
