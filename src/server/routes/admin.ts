import { Hono } from 'hono'
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
    const dump = await (db.driver as unknown as { dump(): Promise<Blob> }).dump()
    return c.body(await dump.arrayBuffer(), 200, { 'content-type': 'application/gzip', 'content-disposition': 'attachment; filename="pgdata.tar.gz"' })
  })
  app.get('/admin/check', async (c) => {
    requireAdmin(c.var.principal)
    return c.json(await db.check())
  })
  return app
}
