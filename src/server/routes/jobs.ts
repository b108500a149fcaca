import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { CancelJobParams, JobEventsParams, JobInfoSchema, JobListAnswerSchema, StartJobRequestSchema } from '../../api/index.ts'
import type { Tessera, JobInfo } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { invalid, isTesseraError, notFound } from '../../errors.ts'
import { Expr } from '../../query/index.ts'
import { canAccess } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import { readJson } from '../json.ts'
import { readParams } from '../request.ts'
import { assertCanTouch } from '../tenant.ts'
import type { OperationDoc } from '../openapi.ts'

// Background jobs (long backfills): start, watch (JSON or server-sent events), cancel, resume. A job is visible to
// tokens that can read its table; changing it needs write access.

export const jobDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/jobs', summary: 'Start a background job computing a column (expr) or building an embedding index (index) in batches; the old one keeps serving until it is done', tag: 'jobs', body: StartJobRequestSchema, success: 201, answer: JobInfoSchema },
  { method: 'get', path: '/api/v1/jobs', summary: 'Jobs visible to this token', tag: 'jobs', answer: JobListAnswerSchema },
  { method: 'get', path: '/api/v1/jobs/{id}', summary: 'A job and its progress', tag: 'jobs', answer: JobInfoSchema },
  { method: 'get', path: '/api/v1/jobs/{id}/events', summary: 'Server-sent events with progress until the job ends', tag: 'jobs', params: JobEventsParams },
  { method: 'post', path: '/api/v1/jobs/{id}/cancel', summary: 'Cancel a running job', tag: 'jobs', params: CancelJobParams, answer: JobInfoSchema },
  { method: 'post', path: '/api/v1/jobs/{id}/resume', summary: 'Resume an interrupted or cancelled job', tag: 'jobs', answer: JobListAnswerSchema },
]

const ENDED = new Set(['done', 'failed', 'cancelled'])

/** A job as the API shows it: named by its unguessable key (the catalog's sequential id stays inside). */
export function wireJob(info: JobInfo) {
  const { key, id: _id, ...rest } = info
  return { id: key, ...rest }
}

/** A job whose row went with its table: what the API last knew of it, ended as cancelled, with the reason. */
function goneWithTable(info: JobInfo): JobInfo {
  return { ...info, status: 'cancelled', error: `table '${info.table}' was dropped`, updatedAt: new Date() }
}

/**
 * The job was found, then its table was dropped before `work` ran: the library's error names the job by its internal
 * id, which the API never shows; the API names it by its table and column.
 */
async function vanished<T>(info: JobInfo, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (e) {
    if (!isTesseraError(e) || e.code !== 'JOB_NOT_FOUND') throw e
    throw notFound('JOB_NOT_FOUND', `the job ${info.index ? `building index '${info.index}' on` : 'computing'} column '${info.column}' of '${info.table}' is gone: table '${info.table}' was dropped`, { table: info.table, column: info.column })
  }
}

export function jobRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()
  // A job key that is malformed, unknown, or names a job on a table the caller may not read: the same 404, and the
  // access check comes before anything about the job is said.
  const job = async (key: string, principal: AuthEnv['Variables']['principal'], access: 'read' | 'write'): Promise<JobInfo> => {
    const missing = () => notFound('JOB_NOT_FOUND', `no job '${key.slice(0, 40)}'; GET /api/v1/jobs lists the jobs this token can see`)
    if (!/^[0-9a-f]{32}$/.test(key)) throw missing()
    const info = (await db.jobs.list()).find((j) => j.key === key)
    if (!info || !canAccess(principal, info.table, 'read')) throw missing()
    assertCanTouch(principal, info.table, access)
    return info
  }

  app.post('/jobs', async (c) => {
    const body = await readJson(c, StartJobRequestSchema)
    assertCanTouch(c.var.principal, parsePath(body.table).path, 'write')
    if ((body.expr === undefined) === (body.index === undefined)) throw invalid('INVALID_ARGUMENT', 'give exactly one of expr (a computed column) or index (an embedding index on column)')
    if (body.index) {
      const { embed, ...index } = body.index
      const info = await db.jobs.startIndex({
        table: body.table, column: body.column, embed: { ...embed, opts: embed.opts ?? {} }, ...index,
        ...(body.onError ? { onError: body.onError } : {}), ...(body.ifExists ? { ifExists: body.ifExists } : {}),
        ...(body.batchSize ? { batchSize: body.batchSize } : {}),
      })
      return c.json(wireJob(info), 201)
    }
    const info = await db.jobs.start({
      table: body.table, column: body.column, expr: new Expr(body.expr!),
      ...(body.onError ? { onError: body.onError } : {}), ...(body.ifExists ? { ifExists: body.ifExists } : {}),
      ...(body.batchSize ? { batchSize: body.batchSize } : {}),
    })
    return c.json(wireJob(info), 201)
  })

  app.get('/jobs', async (c) => c.json({ jobs: (await db.jobs.list()).filter((j) => canAccess(c.var.principal, j.table, 'read')).map(wireJob) }))
  app.get('/jobs/:id', async (c) => c.json(wireJob(await job(c.req.param('id'), c.var.principal, 'read'))))

  app.get('/jobs/:id/events', async (c) => {
    let known = await job(c.req.param('id'), c.var.principal, 'read')
    const { id } = known
    const interval = readParams(c, JobEventsParams).intervalMs
    return streamSSE(c, async (s) => {
      let last = ''
      for (;;) {
        let info: JobInfo
        try {
          info = await db.jobs.get(id)
        } catch (e) {
          // A job goes with its table (the catalog removes its row): the stream still ends with an end event,
          // saying the job was cancelled and why, instead of stopping after a last 'running'.
          if (!isTesseraError(e) || e.code !== 'JOB_NOT_FOUND') throw e
          last = JSON.stringify(wireJob(goneWithTable(known)))
          await s.writeSSE({ event: 'progress', data: last })
          break
        }
        // The token may have been revoked, or the table moved out of its scopes, since the stream began: the stream
        // ends there, saying so without naming the table's new path.
        const who = await c.var.principalNow()
        if (!who || !canAccess(who, info.table, 'read')) {
          await s.writeSSE({ event: 'end', data: JSON.stringify({ error: { code: who ? 'FORBIDDEN' : 'UNAUTHORIZED', message: who ? `token '${who.name}' may no longer read this job's table` : 'the API token was revoked' } }) })
          return
        }
        known = info
        const data = JSON.stringify(wireJob(info))
        if (data !== last) await s.writeSSE({ event: 'progress', data })
        last = data
        if (ENDED.has(info.status) || info.status === 'interrupted' || s.aborted) break
        await s.sleep(interval)
      }
      await s.writeSSE({ event: 'end', data: last })
    })
  })

  app.post('/jobs/:id/cancel', async (c) => {
    const info = await job(c.req.param('id'), c.var.principal, 'write')
    return c.json(wireJob(await vanished(info, db.jobs.cancel(info.id, { dropColumn: readParams(c, CancelJobParams).dropColumn ?? false }))))
  })

  app.post('/jobs/:id/resume', async (c) => {
    const info = await job(c.req.param('id'), c.var.principal, 'write')
    return c.json({ jobs: (await vanished(info, db.jobs.resume(info.id))).map(wireJob) })
  })
  return app
}
