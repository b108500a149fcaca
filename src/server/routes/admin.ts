import { Hono } from 'hono'
import { invalid } from '../../errors.ts'
import type { Tessera } from '../../catalog/index.ts'
import { requireAdmin } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import type { OperationDoc } from '../openapi.ts'

export const adminDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/admin/backup', summary: 'A consistent dump of the database (gzip tar; admin)', tag: 'admin' },
  { method: 'get', path: '/api/v1/admin/check', summary: 'Integrity check of the catalog and data (admin)', tag: 'admin' },
]

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
  return app
}
