import { Hono } from 'hono'
import * as v from 'valibot'
import type { Table, Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/paths.ts'
import { Expr } from '../../query/expr.ts'
import { canSee, requireAccess } from '../auth.ts'
import type { Access, AuthEnv } from '../auth.ts'
import { boolQuery, readJson, sendJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { ExprSchema, IfExistsSchema, IfNotExistsSchema, OnErrorSchema, RowsSchema } from '../schemas.ts'

// Tables, rows, columns and versions. A table path may contain '/', so actions follow a '/-/' separator:
// /api/v1/tables/prod_app/docs/-/rows. Names never contain '-', so the separator is unambiguous.

export const TABLE = ':path{[A-Za-z_][A-Za-z0-9_/]*(?::[0-9]+)?}'

const CreateTable = v.strictObject({
  path: v.string(),
  schema: v.record(v.string(), v.string()),
  primaryKey: v.optional(v.union([v.string(), v.array(v.string())])),
  ifExists: v.optional(IfExistsSchema),
  comment: v.optional(v.string()),
  mediaValidation: v.optional(v.picklist(['on_write', 'on_read'])),
})
const Insert = v.strictObject({ rows: RowsSchema, onError: v.optional(OnErrorSchema) })
const Update = v.strictObject({ values: v.record(v.string(), v.unknown()), where: v.optional(ExprSchema), cascade: v.optional(v.boolean()) })
const Delete = v.strictObject({ where: v.optional(ExprSchema) })
const BatchUpdate = v.strictObject({ rows: RowsSchema, ifNotExists: v.optional(v.picklist(['error', 'ignore', 'insert'])), cascade: v.optional(v.boolean()) })
const AddColumn = v.strictObject({
  name: v.string(),
  type: v.optional(v.string()),
  expr: v.optional(ExprSchema),
  onError: v.optional(OnErrorSchema),
  ifExists: v.optional(IfExistsSchema),
  stored: v.optional(v.boolean()),
})
const Rename = v.strictObject({ to: v.string() })
const CreateView = v.strictObject({
  path: v.string(),
  base: v.string(),
  where: v.optional(ExprSchema),
  iterator: v.optional(v.strictObject({ name: v.string(), input: v.string(), args: v.optional(v.record(v.string(), v.unknown())) })),
  ifExists: v.optional(IfExistsSchema),
})
const CreateSnapshot = v.strictObject({ path: v.string(), base: v.string(), ifExists: v.optional(IfExistsSchema) })
const Recompute = v.strictObject({
  columns: v.union([v.string(), v.array(v.string())]),
  where: v.optional(ExprSchema),
  errorsOnly: v.optional(v.boolean()),
  cascade: v.optional(v.boolean()),
})

export function tableInfo(t: Table) {
  return {
    path: t.pinnedVersion === undefined ? t.path : `${t.path}:${t.pinnedVersion}`,
    kind: t.md.snapshot ? 'snapshot' : t.md.view ? 'view' : 'table',
    version: t.version,
    readOnly: t.isReadOnly,
    primaryKey: t.primaryKey,
    columns: t.columns(),
    indexes: t.listIndexes(),
    ...(t.md.comment ? { comment: t.md.comment } : {}),
  }
}

const T = '/api/v1/tables/{path}'
export const tableDocs: OperationDoc[] = [
  { method: 'get', path: '/api/v1/tables', summary: 'List tables in a dir', tag: 'tables', query: ['dir', 'recursive'] },
  { method: 'post', path: '/api/v1/tables', summary: 'Create a table', tag: 'tables', body: CreateTable, success: 201 },
  { method: 'get', path: T, summary: "A table's schema and version ('path:N' for a past version)", tag: 'tables' },
  { method: 'post', path: '/api/v1/views', summary: 'Create a view (where filter and/or iterator) over a table', tag: 'tables', body: CreateView, success: 201 },
  { method: 'post', path: '/api/v1/snapshots', summary: "Create a read-only snapshot of a table ('base:N' for a version)", tag: 'tables', body: CreateSnapshot, success: 201 },
  { method: 'delete', path: T, summary: 'Drop a table (force drops its views and snapshots)', tag: 'tables', query: ['force', 'ifNotExists'] },
  { method: 'get', path: `${T}/-/rows`, summary: 'Rows, paged in insertion order', tag: 'rows', query: ['limit', 'offset'] },
  { method: 'post', path: `${T}/-/rows`, summary: 'Insert rows (all or nothing)', tag: 'rows', body: Insert, success: 201 },
  { method: 'patch', path: `${T}/-/rows`, summary: 'Update rows matching where', tag: 'rows', body: Update },
  { method: 'post', path: `${T}/-/delete`, summary: 'Delete rows matching where', tag: 'rows', body: Delete },
  { method: 'post', path: `${T}/-/batch-update`, summary: 'Update by primary key (ifNotExists: insert = upsert)', tag: 'rows', body: BatchUpdate },
  { method: 'post', path: `${T}/-/columns`, summary: 'Add a column (type) or a computed column (expr)', tag: 'columns', body: AddColumn, success: 201 },
  { method: 'delete', path: `${T}/-/columns/{name}`, summary: 'Drop a column', tag: 'columns', query: ['ifNotExists'] },
  { method: 'post', path: `${T}/-/columns/{name}/rename`, summary: 'Rename a column', tag: 'columns', body: Rename },
  { method: 'post', path: `${T}/-/recompute`, summary: 'Recompute computed columns', tag: 'columns', body: Recompute },
  { method: 'get', path: `${T}/-/history`, summary: 'Versions, newest first', tag: 'versions' },
  { method: 'post', path: `${T}/-/revert`, summary: 'Undo the latest version', tag: 'versions' },
]

/** The table named by a route's :path param (maybe 'path:N'), after checking the caller's access to it. */
export async function tableFromParam(db: Tessera, c: { req: { param(k: 'path'): string }; var: AuthEnv['Variables'] }, access: Access): Promise<Table> {
  const raw = c.req.param('path')
  requireAccess(c.var.principal, parsePath(raw, { allowVersion: true }).path, access)
  return db.getTable(raw)
}

export function tableRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()
  const table = (c: Parameters<typeof tableFromParam>[1], access: Access) => tableFromParam(db, c, access)

  app.get('/tables', async (c) => {
    const tables = await db.listTables(c.req.query('dir') ?? '', { recursive: boolQuery(c.req.query('recursive')) ?? false })
    return c.json({ tables: tables.filter((t) => canSee(c.var.principal, t)) })
  })

  app.post('/tables', async (c) => {
    const body = await readJson(c, CreateTable)
    requireAccess(c.var.principal, parsePath(body.path).path, 'write')
    const before = body.ifExists === 'ignore' ? await db.listTables(parsePath(body.path).path.split('/').slice(0, -1).join('/')).catch(() => []) : []
    const { path, schema, ...options } = body
    const t = await db.createTable(path, schema, options)
    return c.json(tableInfo(t), before.includes(t.path) ? 200 : 201)
  })

  app.get(`/tables/${TABLE}`, async (c) => c.json(tableInfo(await table(c, 'read'))))

  app.post('/views', async (c) => {
    const body = await readJson(c, CreateView)
    requireAccess(c.var.principal, parsePath(body.path).path, 'write')
    requireAccess(c.var.principal, parsePath(body.base).path, 'read')
    const view = await db.createView(body.path, body.base, {
      ...(body.where ? { where: new Expr(body.where) } : {}),
      ...(body.iterator ? { iterator: body.iterator } : {}),
      ...(body.ifExists ? { ifExists: body.ifExists } : {}),
    })
    return c.json(tableInfo(view), 201)
  })

  app.post('/snapshots', async (c) => {
    const body = await readJson(c, CreateSnapshot)
    requireAccess(c.var.principal, parsePath(body.path).path, 'write')
    requireAccess(c.var.principal, parsePath(body.base, { allowVersion: true }).path, 'read')
    return c.json(tableInfo(await db.createSnapshot(body.path, body.base, body.ifExists ? { ifExists: body.ifExists } : {})), 201)
  })

  app.delete(`/tables/${TABLE}`, async (c) => {
    const path = c.req.param('path')
    requireAccess(c.var.principal, parsePath(path).path, 'write')
    await db.dropTable(path, { force: boolQuery(c.req.query('force')) ?? false, ifNotExists: v.parse(v.optional(IfNotExistsSchema), c.req.query('ifNotExists')) ?? 'error' })
    return c.json({ dropped: parsePath(path).path })
  })

  // rows
  app.get(`/tables/${TABLE}/-/rows`, async (c) => {
    const t = await table(c, 'read')
    const limit = Math.min(Number(c.req.query('limit') ?? 100), 10000)
    const offset = Number(c.req.query('offset') ?? 0)
    const [rows, total] = await Promise.all([t.query().offset(offset).limit(limit).collect(), t.count()])
    return sendJson(c, { ...rows.toJSON(), total, offset, limit })
  })

  app.post(`/tables/${TABLE}/-/rows`, async (c) => {
    const body = await readJson(c, Insert)
    const t = await table(c, 'write')
    return c.json(await t.insert(body.rows, body.onError ? { onError: body.onError } : {}), 201)
  })

  app.patch(`/tables/${TABLE}/-/rows`, async (c) => {
    const body = await readJson(c, Update)
    const t = await table(c, 'write')
    return c.json(await t.update(body.values, { ...(body.where ? { where: new Expr(body.where) } : {}), cascade: body.cascade ?? true }))
  })

  app.post(`/tables/${TABLE}/-/delete`, async (c) => {
    const body = await readJson(c, Delete)
    const t = await table(c, 'write')
    return c.json(await t.delete(body.where ? { where: new Expr(body.where) } : {}))
  })

  app.post(`/tables/${TABLE}/-/batch-update`, async (c) => {
    const body = await readJson(c, BatchUpdate)
    const t = await table(c, 'write')
    return c.json(await t.batchUpdate(body.rows, { ifNotExists: body.ifNotExists ?? 'error', cascade: body.cascade ?? true }))
  })

  // columns
  app.post(`/tables/${TABLE}/-/columns`, async (c) => {
    const body = await readJson(c, AddColumn)
    const t = await table(c, 'write')
    const opts = body.ifExists ? { ifExists: body.ifExists } : {}
    if ((body.type === undefined) === (body.expr === undefined)) {
      return c.json({ error: { code: 'INVALID_ARGUMENT', message: 'give exactly one of type (a stored column) or expr (a computed column)' } }, 400)
    }
    const status = body.expr
      ? await t.addComputedColumn(body.name, new Expr(body.expr), { ...opts, ...(body.onError ? { onError: body.onError } : {}), ...(body.stored !== undefined ? { stored: body.stored } : {}) })
      : await t.addColumn(body.name, body.type!, opts)
    return c.json({ status, table: tableInfo(t) }, 201)
  })

  app.delete(`/tables/${TABLE}/-/columns/:name`, async (c) => {
    const t = await table(c, 'write')
    const status = await t.dropColumn(c.req.param('name'), { ifNotExists: v.parse(v.optional(IfNotExistsSchema), c.req.query('ifNotExists')) ?? 'error' })
    return c.json({ status, table: tableInfo(t) })
  })

  app.post(`/tables/${TABLE}/-/columns/:name/rename`, async (c) => {
    const body = await readJson(c, Rename)
    const t = await table(c, 'write')
    const status = await t.renameColumn(c.req.param('name'), body.to)
    return c.json({ status, table: tableInfo(t) })
  })

  app.post(`/tables/${TABLE}/-/recompute`, async (c) => {
    const body = await readJson(c, Recompute)
    const t = await table(c, 'write')
    return c.json(await t.recomputeColumns(body.columns, {
      ...(body.where ? { where: new Expr(body.where) } : {}),
      ...(body.errorsOnly !== undefined ? { errorsOnly: body.errorsOnly } : {}),
      ...(body.cascade !== undefined ? { cascade: body.cascade } : {}),
    }))
  })

  // versions
  app.get(`/tables/${TABLE}/-/history`, async (c) => {
    const t = await table(c, 'read')
    return c.json({ versions: await t.history() })
  })

  app.post(`/tables/${TABLE}/-/revert`, async (c) => {
    const t = await table(c, 'write')
    return c.json(await t.revert())
  })

  return app
}
