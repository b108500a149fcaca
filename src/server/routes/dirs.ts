import { Hono } from 'hono'
import { CreateDirRequestSchema, CreatedAnswerSchema, DirListAnswerSchema, DropParams, ListDirsParams, MoveRequestSchema } from '../../api/index.ts'
import type { Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import type { AuthEnv } from '../auth.ts'
import { readJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { readParams } from '../request.ts'
import { assertCanList, assertCanTouch, assertDependentsWritable, visibleOnly } from '../tenant.ts'

export const dirDocs: OperationDoc[] = [
  { method: 'get', path: '/api/v1/dirs', summary: 'List dirs', tag: 'dirs', params: ListDirsParams, answer: DirListAnswerSchema },
  { method: 'post', path: '/api/v1/dirs', summary: 'Create a dir', tag: 'dirs', body: CreateDirRequestSchema, success: 201, answer: CreatedAnswerSchema },
  { method: 'delete', path: '/api/v1/dirs/{path}', summary: 'Drop a dir (force: with its contents)', tag: 'dirs', params: DropParams },
  { method: 'post', path: '/api/v1/move', summary: 'Move or rename a dir or table', tag: 'dirs', body: MoveRequestSchema },
]

export function dirRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()

  app.get('/dirs', async (c) => {
    const params = readParams(c, ListDirsParams)
    const path = parsePath(params.path ?? '', { allowRoot: true }).path
    assertCanList(c.var.principal, path)
    const dirs = await db.listDirs(path, { recursive: params.recursive ?? false })
    return c.json({ dirs: visibleOnly(c.var.principal, dirs) })
  })

  app.post('/dirs', async (c) => {
    const body = await readJson(c, CreateDirRequestSchema)
    const path = parsePath(body.path).path
    assertCanTouch(c.var.principal, path, 'create', 'dir')
    const { path: _path, ...options } = body
    const r = await db.createDir(path, options)
    return c.json({ path, created: r.created }, r.created ? 201 : 200)
  })

  app.delete('/dirs/:path{[A-Za-z_][A-Za-z0-9_/]*}', async (c) => {
    const path = parsePath(c.req.param('path')).path
    assertCanTouch(c.var.principal, path, 'write', 'dir')
    const { force = false, ifNotExists } = readParams(c, DropParams)
    // Tables in the dir may have views or snapshots elsewhere, which a force drop would take with them.
    if (force) await assertDependentsWritable(db, c.var.principal, await db.listTables(path, { recursive: true }).catch(() => []), `directory '${path}'`)
    await db.dropDir(path, { force, ifNotExists })
    return c.json({ dropped: path })
  })

  app.post('/move', async (c) => {
    const body = await readJson(c, MoveRequestSchema)
    assertCanTouch(c.var.principal, parsePath(body.from).path, 'write', 'path')
    assertCanTouch(c.var.principal, parsePath(body.to).path, 'create', 'path')
    await db.move(body.from, body.to)
    return c.json({ moved: body })
  })

  return app
}
