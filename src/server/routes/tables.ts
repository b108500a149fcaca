import { Hono } from 'hono'
import type { TableInfo } from '../../api/index.ts'
import { HistoryAnswerSchema, RevertAnswerSchema, SchemaChangeAnswerSchema, TableInfoSchema, TableListAnswerSchema, UpdateStatusSchema } from '../../api/index.ts'
import * as v from 'valibot'
import type { Table, Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { Expr } from '../../query/index.ts'
import type { Access, AuthEnv } from '../auth.ts'
import { readJson, sendJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { boolParam, enumParam, intParam, NameSchema, PathSchema, stringParam, tooLarge, VersionedPathSchema } from '../request.ts'
import { BoolOption, call, callBody, ExprSchema, IfExistsSchema, OnErrorSchema, RowsSchema, TypeSchema } from '../schemas.ts'
import { queryFromRequest } from './query.ts'
import { assertCanList, assertCanTouch, assertDependentsWritable, visibleOnly } from '../tenant.ts'

// Tables, rows, columns and versions. A table path may contain '/', so actions follow a '/-/' separator:
// /api/v1/tables/prod_app/docs/-/rows. Names never contain '-', so the separator is unambiguous.

export const TABLE = ':path{[A-Za-z_][A-Za-z0-9_/]*(?::[0-9]+)?}'

const CreateTable = callBody({
  path: PathSchema,
  schema: v.pipe(v.record(NameSchema, TypeSchema), v.check((s) => Object.keys(s).length <= 1000, 'a table has at most 1000 columns (limit)')),
  primaryKey: v.optional(v.union([NameSchema, v.pipe(v.array(NameSchema), v.maxLength(32))])),
  ifExists: v.optional(IfExistsSchema),
  comment: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
  mediaValidation: v.optional(v.picklist(['on_write', 'on_read'])),
}, call('createTable', ['path', 'schema'], ['primaryKey', 'ifExists', 'comment', 'mediaValidation']))
const Insert = callBody({ rows: RowsSchema, onError: v.optional(OnErrorSchema) }, call('insert', ['rows'], ['onError']))
const Update = callBody({ values: v.record(NameSchema, v.unknown()), where: v.optional(ExprSchema), cascade: v.optional(v.boolean()) }, call('update', ['values'], ['where', 'cascade']))
// Deleting every row must be explicit: an empty body (a client that forgot its filter) is refused.
const Delete = v.pipe(
  v.strictObject({ where: v.optional(ExprSchema), all: v.optional(v.literal(true)) }),
  v.check((b) => b.where !== undefined || b.all !== undefined, 'refusing to delete every row by default: give where (the rows to delete), or {"all": true} to delete every row'),
  v.check((b) => b.where === undefined || b.all === undefined, 'give where or {"all": true}, not both'),
)
const BatchUpdate = callBody({ rows: RowsSchema, ifNotExists: v.optional(v.picklist(['error', 'ignore', 'insert'])), cascade: v.optional(v.boolean()) }, call('batchUpdate', ['rows'], ['ifNotExists', 'cascade']))
// One route for addColumn (type) and addComputedColumn (expr): each refuses the other's options by name.
const AddColumn = callBody({
  name: NameSchema,
  type: v.optional(TypeSchema),
  expr: v.optional(ExprSchema),
  onError: v.optional(OnErrorSchema),
  ifExists: v.optional(IfExistsSchema),
  stored: v.optional(BoolOption('addComputedColumn', 'stored')),
}, (b) => (b.expr !== undefined
  ? { call: 'addComputedColumn', fields: ['name', 'expr'], options: ['onError', 'ifExists', 'stored'] }
  : { call: 'addColumn', fields: ['name', 'type'], options: ['ifExists'] }))
const Rename = v.strictObject({ to: NameSchema })
const CreateView = callBody({
  path: PathSchema,
  // A table path, or a query's JSON form whose where() the view follows (the library refuses anything else it says).
  base: v.union([PathSchema, v.looseObject({ table: VersionedPathSchema })], 'expected a table path or a query ({"table": ..., "where": ...})'),
  where: v.optional(ExprSchema),
  iterator: v.optional(v.strictObject({ name: v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_.]{0,127}$/, 'an iterator name is letters, digits, _ and .')), input: NameSchema, args: v.optional(v.record(NameSchema, v.unknown())) })),
  ifExists: v.optional(IfExistsSchema),
}, call('createView', ['path', 'base'], ['where', 'iterator', 'ifExists']))
const CreateSnapshot = callBody({ path: PathSchema, base: VersionedPathSchema, ifExists: v.optional(IfExistsSchema) }, call('createSnapshot', ['path', 'base'], ['ifExists']))
const Recompute = callBody({
  columns: v.union([NameSchema, v.pipe(v.array(NameSchema), v.maxLength(1000))]),
  where: v.optional(ExprSchema),
  errorsOnly: v.optional(v.boolean()),
  cascade: v.optional(v.boolean()),
}, call('recomputeColumns', ['columns'], ['where', 'errorsOnly', 'cascade']))

/** A table as the API answers it: the contract's TableInfo (src/api). */
export function tableInfo(t: Table): TableInfo {
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
  { method: 'get', path: '/api/v1/tables', summary: 'List tables in a dir', tag: 'tables', query: ['dir', 'recursive'], answer: TableListAnswerSchema },
  { method: 'post', path: '/api/v1/tables', summary: 'Create a table', tag: 'tables', body: CreateTable, success: 201, answer: TableInfoSchema },
  { method: 'get', path: T, summary: "A table's schema and version ('path:N' for a past version)", tag: 'tables', answer: TableInfoSchema },
  { method: 'post', path: '/api/v1/views', summary: 'Create a view (where filter and/or iterator) over a table', tag: 'tables', body: CreateView, success: 201, answer: TableInfoSchema },
  { method: 'post', path: '/api/v1/snapshots', summary: "Create a read-only snapshot of a table ('base:N' for a version)", tag: 'tables', body: CreateSnapshot, success: 201, answer: TableInfoSchema },
  { method: 'delete', path: T, summary: 'Drop a table (force drops its views and snapshots)', tag: 'tables', query: ['force', 'ifNotExists'] },
  { method: 'get', path: `${T}/-/rows`, summary: 'Rows, paged in insertion order', tag: 'rows', query: ['limit', 'offset'] },
  { method: 'post', path: `${T}/-/rows`, summary: 'Insert rows (all or nothing)', tag: 'rows', body: Insert, success: 201, answer: UpdateStatusSchema },
  { method: 'patch', path: `${T}/-/rows`, summary: 'Update rows matching where', tag: 'rows', body: Update, answer: UpdateStatusSchema },
  { method: 'post', path: `${T}/-/delete`, summary: 'Delete rows matching where ({"all": true} deletes every row; an empty body is refused)', tag: 'rows', body: Delete, answer: UpdateStatusSchema },
  { method: 'post', path: `${T}/-/batch-update`, summary: 'Update by primary key (ifNotExists: insert = upsert)', tag: 'rows', body: BatchUpdate, answer: UpdateStatusSchema },
  { method: 'post', path: `${T}/-/columns`, summary: 'Add a column (type) or a computed column (expr)', tag: 'columns', body: AddColumn, success: 201, answer: SchemaChangeAnswerSchema },
  { method: 'delete', path: `${T}/-/columns/{name}`, summary: 'Drop a column', tag: 'columns', query: ['ifNotExists'], answer: SchemaChangeAnswerSchema },
  { method: 'post', path: `${T}/-/columns/{name}/rename`, summary: 'Rename a column', tag: 'columns', body: Rename, answer: SchemaChangeAnswerSchema },
  { method: 'post', path: `${T}/-/recompute`, summary: 'Recompute computed columns', tag: 'columns', body: Recompute, answer: UpdateStatusSchema },
  { method: 'get', path: `${T}/-/history`, summary: 'Versions, newest first', tag: 'versions', answer: HistoryAnswerSchema },
  { method: 'post', path: `${T}/-/revert`, summary: 'Undo the latest version', tag: 'versions', answer: RevertAnswerSchema },
]

/** The table named by a route's :path param (maybe 'path:N'), after checking the caller's access to it. */
export async function tableFromParam(db: Tessera, c: { req: { param(k: 'path'): string }; var: AuthEnv['Variables'] }, access: Access): Promise<Table> {
  const raw = c.req.param('path')
  assertCanTouch(c.var.principal, parsePath(raw, { allowVersion: true }).path, access)
  return db.getTable(raw)
}

const IF_NOT_EXISTS = ['error', 'ignore'] as const

export function tableRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()
  const table = (c: Parameters<typeof tableFromParam>[1], access: Access) => tableFromParam(db, c, access)

  app.get('/tables', async (c) => {
    const dir = parsePath(stringParam(c, 'dir') ?? '', { allowRoot: true }).path
    assertCanList(c.var.principal, dir)
    const tables = await db.listTables(dir, { recursive: boolParam(c, 'recursive') ?? false })
    return c.json({ tables: visibleOnly(c.var.principal, tables) })
  })

  app.post('/tables', async (c) => {
    const body = await readJson(c, CreateTable)
    const path = parsePath(body.path).path
    assertCanTouch(c.var.principal, path, 'create')
    const before = body.ifExists === 'ignore' ? await db.listTables(path.split('/').slice(0, -1).join('/')).catch(() => []) : []
    const { path: _path, schema, ...options } = body
    const t = await db.createTable(path, schema, options)
    return c.json(tableInfo(t), before.includes(t.path) ? 200 : 201)
  })

  app.get(`/tables/${TABLE}`, async (c) => c.json(tableInfo(await table(c, 'read'))))

  app.post('/views', async (c) => {
    const body = await readJson(c, CreateView)
    assertCanTouch(c.var.principal, parsePath(body.path).path, 'create')
    const base = typeof body.base === 'string' ? body.base : await queryFromRequest(db, c, body.base)
    if (typeof base === 'string') assertCanTouch(c.var.principal, parsePath(base).path, 'read')
    const view = await db.createView(body.path, base, {
      ...(body.where ? { where: new Expr(body.where) } : {}),
      ...(body.iterator ? { iterator: body.iterator } : {}),
      ...(body.ifExists ? { ifExists: body.ifExists } : {}),
    })
    return c.json(tableInfo(view), 201)
  })

  app.post('/snapshots', async (c) => {
    const body = await readJson(c, CreateSnapshot)
    assertCanTouch(c.var.principal, parsePath(body.path).path, 'create')
    assertCanTouch(c.var.principal, parsePath(body.base, { allowVersion: true }).path, 'read')
    return c.json(tableInfo(await db.createSnapshot(body.path, body.base, body.ifExists ? { ifExists: body.ifExists } : {})), 201)
  })

  app.delete(`/tables/${TABLE}`, async (c) => {
    const path = parsePath(c.req.param('path')).path
    assertCanTouch(c.var.principal, path, 'write')
    const force = boolParam(c, 'force') ?? false
    const ifNotExists = enumParam(c, 'ifNotExists', IF_NOT_EXISTS, 'error')
    if (force) await assertDependentsWritable(db, c.var.principal, [path], `'${path}'`)
    await db.dropTable(path, { force, ifNotExists })
    return c.json({ dropped: path })
  })

  // rows
  app.get(`/tables/${TABLE}/-/rows`, async (c) => {
    const limit = intParam(c, 'limit', { min: 1, max: Math.min(10_000, c.var.limits.maxAnswerRows) }, Math.min(100, c.var.limits.maxAnswerRows))
    const offset = intParam(c, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }, 0)
    const t = await table(c, 'read')
    const [rows, total] = await Promise.all([t.query().offset(offset).limit(limit).collect(), t.count()])
    return sendJson(c, { ...rows.toJSON(), total, offset, limit })
  })

  const checkRowCount = (c: { var: AuthEnv['Variables'] }, rows: readonly unknown[]) => {
    const max = c.var.limits.maxInsertRows
    if (rows.length > max) throw tooLarge(`${rows.length} rows in one request, more than ${max} (limit): send them in smaller requests, or stream a file to POST /api/v1/tables/{path}/-/import (CSV, JSON Lines, Parquet) for large loads`, { limit: max })
  }

  app.post(`/tables/${TABLE}/-/rows`, async (c) => {
    const body = await readJson(c, Insert)
    checkRowCount(c, body.rows)
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
    checkRowCount(c, body.rows)
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
    const name = v.parse(NameSchema, c.req.param('name'))
    const ifNotExists = enumParam(c, 'ifNotExists', IF_NOT_EXISTS, 'error')
    const t = await table(c, 'write')
    const status = await t.dropColumn(name, { ifNotExists })
    return c.json({ status, table: tableInfo(t) })
  })

  app.post(`/tables/${TABLE}/-/columns/:name/rename`, async (c) => {
    const body = await readJson(c, Rename)
    const name = v.parse(NameSchema, c.req.param('name'))
    const t = await table(c, 'write')
    const status = await t.renameColumn(name, body.to)
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
