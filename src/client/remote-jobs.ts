import type { CancelJobParams, JobInfoWire, JobListAnswer, StartJobRequest } from '../api/index.ts'
import type { ExprLike } from '../query/expr.ts'
import { toNode } from '../query/expr.ts'
import type { HttpTransport } from './http.ts'
import { queryString } from './http.ts'
import { jobIdSegment } from './urls.ts'

// db.jobs over HTTP: the same methods and JobInfo objects as the in-process Jobs (src/catalog/jobs.ts). A job runs in
// the server process, so wait() follows it until it ends rather than until a local loop stops. Bodies and answers
// are the API contract's (src/api: StartJobRequest, JobInfo).

const ENDED = new Set<JobInfoWire['status']>(['done', 'failed', 'cancelled', 'interrupted'])

/** A job over HTTP: as in-process, except that its id is the job's unguessable key (a string). */
export type RemoteJobInfo = Readonly<Omit<JobInfoWire, 'createdAt' | 'updatedAt'>> & { readonly createdAt: Date; readonly updatedAt: Date }
type WireJob = JobInfoWire
const revive = (j: WireJob): RemoteJobInfo => ({ ...j, createdAt: new Date(j.createdAt), updatedAt: new Date(j.updatedAt) })

/** A table by path, or a handle with a path (a RemoteTable). */
type TableRef = string | { readonly path: string }
const pathOf = (table: TableRef): string => (typeof table === 'string' ? table : table.path)

export class RemoteJobs {
  readonly #http: HttpTransport

  constructor(http: HttpTransport) {
    this.#http = http
  }

  /** Adds a computed column in the server's background, as db.jobs.start. */
  async start(options: Omit<StartJobRequest, 'table' | 'expr' | 'index'> & { readonly table: TableRef; readonly expr: ExprLike }): Promise<RemoteJobInfo> {
    const { table, expr, ...rest } = options
    return revive(await this.#http.request<WireJob>('POST', '/api/v1/jobs', { ...rest, table: pathOf(table), expr: toNode(expr) } satisfies StartJobRequest))
  }

  /** Builds an embedding index in the server's background, as db.jobs.startIndex. */
  async startIndex(options: Omit<StartJobRequest, 'table' | 'expr' | 'index'> & NonNullable<StartJobRequest['index']> & { readonly table: TableRef }): Promise<RemoteJobInfo> {
    const { table, column, onError, ifExists, batchSize, ...index } = options
    return revive(await this.#http.request<WireJob>('POST', '/api/v1/jobs', {
      table: pathOf(table), column, index,
      ...(onError ? { onError } : {}), ...(ifExists ? { ifExists } : {}), ...(batchSize ? { batchSize } : {}),
    } satisfies StartJobRequest))
  }

  async list(): Promise<RemoteJobInfo[]> {
    return (await this.#http.request<JobListAnswer>('GET', '/api/v1/jobs')).jobs.map(revive)
  }

  async get(id: string): Promise<RemoteJobInfo> {
    return revive(await this.#http.request<WireJob>('GET', `/api/v1/jobs/${jobIdSegment(id)}`))
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
    return revive(await this.#http.request<WireJob>('POST', `/api/v1/jobs/${jobIdSegment(id)}/cancel${queryString<typeof CancelJobParams>(options)}`))
  }

  /** Continues interrupted, cancelled or failed jobs (all of those this token may change when no id is given). */
  async resume(id?: string): Promise<RemoteJobInfo[]> {
    const ids = id !== undefined ? [id] : (await this.list()).filter((j) => j.status !== 'done' && j.status !== 'running').map((j) => j.id)
    const out: RemoteJobInfo[] = []
    for (const i of ids) out.push(...(await this.#http.request<JobListAnswer>('POST', `/api/v1/jobs/${jobIdSegment(i)}/resume`)).jobs.map(revive))
    return out
  }
}
