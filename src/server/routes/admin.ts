import { existsSync, readdirSync } from 'node:fs'
import { basename } from 'node:path'
import { Hono } from 'hono'
import { fileBody } from '../file-body.ts'
import { CheckAnswerSchema, CompactReportSchema, CompactRequestSchema, GcReportSchema, GcRequestSchema, RetentionAnswerSchema, RetentionRequestSchema } from '../../api/index.ts'
import { invalid } from '../../errors.ts'
import type { Tessera } from '../../catalog/index.ts'
import { requireAdmin } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import type { OperationDoc } from '../openapi.ts'
import { readJson } from '../json.ts'

export const adminDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/admin/backup', summary: 'A consistent dump of the database (gzip tar; admin)', tag: 'admin' },
  { method: 'get', path: '/api/v1/admin/check', summary: 'Integrity check of the catalog and data (admin)', tag: 'admin', answer: CheckAnswerSchema },
  { method: 'post', path: '/api/v1/admin/compact', summary: 'Remove row versions outside the retention policies, vacuum, collect media (admin)', tag: 'admin', body: CompactRequestSchema, answer: CompactReportSchema },
  { method: 'post', path: '/api/v1/admin/gc', summary: 'Delete media files no row version refers to (admin)', tag: 'admin', body: GcRequestSchema, answer: GcReportSchema },
  { method: 'post', path: '/api/v1/admin/retention', summary: 'Set (policy: null removes) the retention policy of a table, or the database default (admin)', tag: 'admin', body: RetentionRequestSchema, answer: RetentionAnswerSchema },
  { method: 'get', path: '/api/v1/admin/media', summary: 'Keys of the media store files, for backups (admin)', tag: 'admin' },
  { method: 'get', path: '/api/v1/admin/media/{key}', summary: 'One media store file by key, for backups (admin)', tag: 'admin' },
]

const MEDIA_KEY = /^[0-9a-f]{64}(\.[a-z0-9]{1,10})?$/

/** Operations on the whole data dir (admin tokens only). */
export function adminRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()
  app.post('/admin/backup', async (c) => {
    requireAdmin(c.var.principal)
    const driver = db.driver as unknown as { dump?(): Promise<Blob> }
    // A PostgreSQL server is backed up with its own tools (and replication); only the embedded store dumps itself.
    if (typeof driver.dump !== 'function') throw invalid('INVALID_ARGUMENT', 'this server runs on a PostgreSQL database: back it up with pg_dump (or the server\'s own backups), and copy the media folder')
    const dump = await driver.dump()
    return c.body(await dump.arrayBuffer(), 200, { 'content-type': 'application/gzip', 'content-disposition': 'attachment; filename="pgdata.tar.gz"' })
  })
  app.get('/admin/check', async (c) => {
    requireAdmin(c.var.principal)
    return c.json(await db.check())
  })
  app.post('/admin/compact', async (c) => {
    requireAdmin(c.var.principal)
    const body = await readJson(c, CompactRequestSchema)
    return c.json(await db.compact(body))
  })
  app.post('/admin/gc', async (c) => {
    requireAdmin(c.var.principal)
    return c.json(await db.gc(await readJson(c, GcRequestSchema)))
  })
  app.post('/admin/retention', async (c) => {
    requireAdmin(c.var.principal)
    const body = await readJson(c, RetentionRequestSchema)
    await db.setRetention(body.policy, body.path)
    return c.json(await db.getRetention(body.path))
  })
  // `tessera backup --url` copies the media store file by file (content-addressed keys; <dir>/<2 hex>/<key>).
  app.get('/admin/media', async (c) => {
    requireAdmin(c.var.principal)
    const dir = (db.media.store as { dir?: string }).dir
    const files = dir && existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).map((f) => basename(f)).filter((f) => MEDIA_KEY.test(f)) : []
    return c.json({ files })
  })
  app.get('/admin/media/:key', async (c) => {
    requireAdmin(c.var.principal)
    const key = c.req.param('key')
    if (!MEDIA_KEY.test(key)) throw invalid('INVALID_ARGUMENT', `'${key}' is not a media store key (sha256 hex, optional extension)`)
    // Sent as it is read (a backup copies every file of the store through here, videos included).
    const { body } = await fileBody(await db.media.store.path(`${db.media.store.scheme}://${key}`))
    return c.body(body, 200, { 'content-type': 'application/octet-stream' })
  })
  return app
}
