import { Hono } from 'hono'
import * as v from 'valibot'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/paths.ts'
import { canSee, requireAccess } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import { boolQuery, readJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { IfExistsSchema, IfNotExistsSchema } from '../schemas.ts'

const CreateDir = v.strictObject({
  path: v.string(),
  ifExists: v.optional(IfExistsSchema),
  parents: v.optional(v.boolean()),
})

const Move = v.strictObject({ from: v.string(), to: v.string() })

export const dirDocs: OperationDoc[] = [
  { method: 'get', path: '/api/v1/dirs', summary: 'List dirs', tag: 'dirs', query: ['path', 'recursive'] },
  { method: 'post', path: '/api/v1/dirs', summary: 'Create a dir', tag: 'dirs', body: CreateDir, success: 201 },
  { method: 'delete', path: '/api/v1/dirs/{path}', summary: 'Drop a dir (force: with its contents)', tag: 'dirs', query: ['force', 'ifNotExists'] },
  { method: 'post', path: '/api/v1/move', summary: 'Move or rename a dir or table', tag: 'dirs', body: Move },
]

export function dirRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  app.get('/dirs', async (c) => {
    const path = c.req.query('path') ?? ''
    const dirs = await db.listDirs(path, { recursive: boolQuery(c.req.query('recursive')) ?? false })
    return c.json({ dirs: dirs.filter((d) => canSee(c.var.principal, d)) })
  })

  app.post('/dirs', async (c) => {
    const body = await readJson(c, CreateDir)
    requireAccess(c.var.principal, parsePath(body.path).path, 'write')
    const r = await db.createDir(body.path, body)
    return c.json({ path: parsePath(body.path).path, created: r.created }, r.created ? 201 : 200)
  })

  app.delete('/dirs/:path{[A-Za-z_][A-Za-z0-9_/]*}', async (c) => {
    const path = c.req.param('path')
    requireAccess(c.var.principal, path, 'write')
    await db.dropDir(path, { force: boolQuery(c.req.query('force')) ?? false, ifNotExists: v.parse(v.optional(IfNotExistsSchema), c.req.query('ifNotExists')) ?? 'error' })
    return c.json({ dropped: path })
  })

  app.post('/move', async (c) => {
    const body = await readJson(c, Move)
    requireAccess(c.var.principal, parsePath(body.from).path, 'write')
    requireAccess(c.var.principal, parsePath(body.to).path, 'write')
    await db.move(body.from, body.to)
    return c.json({ moved: body })
  })

  return app
}
