import type { JobInfo, StartIndexJobOptions, StartJobOptions } from '../catalog/jobs.ts'
import { toNode } from '../query/expr.ts'
import type { HttpTransport } from './http.ts'

// db.jobs over HTTP: the same methods and JobInfo objects as the in-process Jobs (src/catalog/jobs.ts). A job runs in
// the server process, so wait() follows it until it ends rather than until a local loop stops.

const ENDED = new Set<JobInfo['status']>(['done', 'failed', 'cancelled', 'interrupted'])

/** A job over HTTP: as in-process, except that its id is the job's unguessable key (a string). */
export type RemoteJobInfo = Omit<JobInfo, 'id' | 'key'> & { readonly id: string }
type WireJob = Omit<RemoteJobInfo, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string }
const revive = (j: WireJob): RemoteJobInfo => ({ ...j, createdAt: new Date(j.createdAt), updatedAt: new Date(j.updatedAt) })

export class RemoteJobs {
  readonly #http: HttpTransport

  constructor(http: HttpTransport) {
    this.#http = http
  }

  async start(options: Omit<StartJobOptions, 'table'> & { readonly table: string | { readonly path: string } }): Promise<RemoteJobInfo> {
    const { table, expr, ...rest } = options
    return revive(await this.#http.request<WireJob>('POST', '/api/v1/jobs', { ...rest, table: typeof table === 'string' ? table : table.path, expr: toNode(expr) }))
  }

  /** Builds an embedding index in the server's background, as db.jobs.startIndex. */
  async startIndex(options: Omit<StartIndexJobOptions, 'table'> & { readonly table: string | { readonly path: string } }): Promise<RemoteJobInfo> {
    const { table, column, embed, name, metric, fullText, onError, ifExists, batchSize } = options
    return revive(await this.#http.request<WireJob>('POST', '/api/v1/jobs', {
      table: typeof table === 'string' ? table : table.path, column,
      index: { embed, ...(name ? { name } : {}), ...(metric ? { metric } : {}), ...(fullText !== undefined ? { fullText } : {}) },
      ...(onError ? { onError } : {}), ...(ifExists ? { ifExists } : {}), ...(batchSize ? { batchSize } : {}),
    }))
  }

  async list(): Promise<RemoteJobInfo[]> {
    return (await this.#http.request<{ jobs: WireJob[] }>('GET', '/api/v1/jobs')).jobs.map(revive)
  }

  async get(id: string): Promise<RemoteJobInfo> {
    return revive(await this.#http.request<WireJob>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`))
  }

  /** Resolves when the job is no longer running (done, failed, cancelled, or interrupted by a server stop). */
  async wait(id: string, options: { pollMs?: number } = {}): Promise<RemoteJobInfo> {
    for (;;) {
      const info = await this.get(id)
      if (ENDED.has(info.status)) return info
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250))
    }
  }

  async cancel(id: string, options: { dropColumn?: boolean } = {}): Promise<RemoteJobInfo> {
    return revive(await this.#http.request<WireJob>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/cancel${options.dropColumn ? '?dropColumn=true' : ''}`))
  }

  /** Continues interrupted, cancelled or failed jobs (all of those this token may change when no id is given). */
  async resume(id?: string): Promise<RemoteJobInfo[]> {
    const ids = id !== undefined ? [id] : (await this.list()).filter((j) => j.status !== 'done' && j.status !== 'running').map((j) => j.id)
    const out: RemoteJobInfo[] = []
    for (const i of ids) out.push(...(await this.#http.request<{ jobs: WireJob[] }>('POST', `/api/v1/jobs/${encodeURIComponent(i)}/resume`)).jobs.map(revive))
    return out
  }
}
