import type { JobInfo, StartIndexJobOptions, StartJobOptions } from '../compute/jobs.ts'
import { toNode } from '../query/expr.ts'
import type { HttpTransport } from './http.ts'

// db.jobs over HTTP: the same methods and JobInfo objects as the in-process Jobs (src/compute/jobs.ts). A job runs in
// the server process, so wait() follows it until it ends rather than until a local loop stops.

const ENDED = new Set<JobInfo['status']>(['done', 'failed', 'cancelled', 'interrupted'])

type WireJob = Omit<JobInfo, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string }
const revive = (j: WireJob): JobInfo => ({ ...j, createdAt: new Date(j.createdAt), updatedAt: new Date(j.updatedAt) })

export class RemoteJobs {
  readonly #http: HttpTransport

  constructor(http: HttpTransport) {
    this.#http = http
  }

  async start(options: Omit<StartJobOptions, 'table'> & { readonly table: string | { readonly path: string } }): Promise<JobInfo> {
    const { table, expr, ...rest } = options
    return revive(await this.#http.request<WireJob>('POST', '/api/v1/jobs', { ...rest, table: typeof table === 'string' ? table : table.path, expr: toNode(expr) }))
  }

  /** Builds an embedding index in the server's background, as db.jobs.startIndex. */
  async startIndex(options: Omit<StartIndexJobOptions, 'table'> & { readonly table: string | { readonly path: string } }): Promise<JobInfo> {
    const { table, column, embed, name, metric, fullText, onError, ifExists, batchSize } = options
    return revive(await this.#http.request<WireJob>('POST', '/api/v1/jobs', {
      table: typeof table === 'string' ? table : table.path, column,
      index: { embed, ...(name ? { name } : {}), ...(metric ? { metric } : {}), ...(fullText !== undefined ? { fullText } : {}) },
      ...(onError ? { onError } : {}), ...(ifExists ? { ifExists } : {}), ...(batchSize ? { batchSize } : {}),
    }))
  }

  async list(): Promise<JobInfo[]> {
    return (await this.#http.request<{ jobs: WireJob[] }>('GET', '/api/v1/jobs')).jobs.map(revive)
  }

  async get(id: number): Promise<JobInfo> {
    return revive(await this.#http.request<WireJob>('GET', `/api/v1/jobs/${id}`))
  }

  /** Resolves when the job is no longer running (done, failed, cancelled, or interrupted by a server stop). */
  async wait(id: number, options: { pollMs?: number } = {}): Promise<JobInfo> {
    for (;;) {
      const info = await this.get(id)
      if (ENDED.has(info.status)) return info
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250))
    }
  }

  async cancel(id: number, options: { dropColumn?: boolean } = {}): Promise<JobInfo> {
    return revive(await this.#http.request<WireJob>('POST', `/api/v1/jobs/${id}/cancel${options.dropColumn ? '?dropColumn=true' : ''}`))
  }

  /** Continues interrupted, cancelled or failed jobs (all of those this token may change when no id is given). */
  async resume(id?: number): Promise<JobInfo[]> {
    const ids = id !== undefined ? [id] : (await this.list()).filter((j) => j.status !== 'done' && j.status !== 'running').map((j) => j.id)
    const out: JobInfo[] = []
    for (const i of ids) out.push(...(await this.#http.request<{ jobs: WireJob[] }>('POST', `/api/v1/jobs/${i}/resume`)).jobs.map(revive))
    return out
  }
}
