import { Hono } from 'hono'
import type { TableInfo } from '../../api/index.ts'
import {
  AddColumnRequestSchema, BatchUpdateRequestSchema, CreateSnapshotRequestSchema, CreateTableRequestSchema, CreateViewRequestSchema, DeleteRequestSchema,
  DropParams, DropPartParams, HistoryAnswerSchema, InsertRequestSchema, ListTablesParams, RowsPageParams, NameSchema, RecomputeRequestSchema, RenameColumnRequestSchema, AddScalarIndexRequestSchema, RevertAnswerSchema, SchemaChangeAnswerSchema,
  TableInfoSchema, TableListAnswerSchema, UpdateRequestSchema, UpdateStatusSchema,
} from '../../api/index.ts'
import * as v from 'valibot'
import type { IfExists } from '../../api/index.ts'
import type { Table, Tessera } from '../../catalog/index.ts'
import { parsePath } from '../../catalog/index.ts'
import { Expr } from '../../query/index.ts'
import { isTesseraError, notFound } from '../../errors.ts'
import type { Access, AuthEnv } from '../auth.ts'
import { readJson, sendJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import { readParam, readParams, refuseNonFiniteNumbers, refuseUnknownParams, tooLarge } from '../request.ts'
import { queryFromRequest } from './query.ts'
import { assertCanList, assertCanTouch, assertDependentsWritable, visibleOnly } from '../tenant.ts'
import { STAMP_HEADER, stampedTable, TableInfoParams, versionStamp } from '../version-stamps.ts'

// Tables, rows, columns and versions. A table path may contain '/', so actions follow a '/-/' separator:
// /api/v1/tables/prod_app/docs/-/rows. Names never contain '-', so the separator is unambiguous.

export const TABLE = ':path{[A-Za-z_][A-Za-z0-9_/]*(?::[0-9]+)?}'

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
  { method: 'get', path: '/api/v1/tables', summary: 'List tables in a dir', tag: 'tables', params: ListTablesParams, answer: TableListAnswerSchema },
  { method: 'post', path: '/api/v1/tables', summary: 'Create a table', tag: 'tables', body: CreateTableRequestSchema, success: 201, answer: TableInfoSchema },
  { method: 'get', path: T, summary: `A table's schema and version ('path:N' for a past version, answered with a ${STAMP_HEADER} header; with ?stamp=<that header>, 409 CONCURRENCY_CONFLICT once version N was reverted, 404 TABLE_NOT_FOUND once the table was dropped)`, tag: 'tables', params: TableInfoParams, answer: TableInfoSchema },
  { method: 'post', path: '/api/v1/views', summary: 'Create a view (where filter and/or iterator) over a table', tag: 'tables', body: CreateViewRequestSchema, success: 201, answer: TableInfoSchema },
  { method: 'post', path: '/api/v1/snapshots', summary: "Create a read-only snapshot of a table ('base:N' for a version)", tag: 'tables', body: CreateSnapshotRequestSchema, success: 201, answer: TableInfoSchema },
  { method: 'delete', path: T, summary: 'Drop a table (force drops its views and snapshots)', tag: 'tables', params: DropParams },
  { method: 'get', path: `${T}/-/rows`, summary: 'Rows, paged in insertion order', tag: 'rows', params: RowsPageParams },
  { method: 'post', path: `${T}/-/rows`, summary: 'Insert rows (all or nothing)', tag: 'rows', body: InsertRequestSchema, success: 201, answer: UpdateStatusSchema },
  { method: 'patch', path: `${T}/-/rows`, summary: 'Update rows matching where', tag: 'rows', body: UpdateRequestSchema, answer: UpdateStatusSchema },
  { method: 'post', path: `${T}/-/delete`, summary: 'Delete rows matching where ({"all": true} deletes every row; an empty body is refused)', tag: 'rows', body: DeleteRequestSchema, answer: UpdateStatusSchema },
  { method: 'post', path: `${T}/-/batch-update`, summary: 'Update by primary key (ifNotExists: insert = upsert)', tag: 'rows', body: BatchUpdateRequestSchema, answer: UpdateStatusSchema },
  { method: 'post', path: `${T}/-/columns`, summary: 'Add a column (type) or a computed column (expr)', tag: 'columns', body: AddColumnRequestSchema, success: 201, answer: SchemaChangeAnswerSchema },
  { method: 'delete', path: `${T}/-/columns/{name}`, summary: 'Drop a column', tag: 'columns', params: DropPartParams, answer: SchemaChangeAnswerSchema },
  { method: 'post', path: `${T}/-/columns/{name}/rename`, summary: 'Rename a column', tag: 'columns', body: RenameColumnRequestSchema, answer: SchemaChangeAnswerSchema },
  { method: 'post', path: `${T}/-/columns/{name}/index`, summary: 'Add a scalar index on a column (filters on it find their rows through it)', tag: 'columns', body: AddScalarIndexRequestSchema, answer: SchemaChangeAnswerSchema },
  { method: 'delete', path: `${T}/-/columns/{name}/index`, summary: "Drop a column's scalar index", tag: 'columns', params: DropPartParams, answer: SchemaChangeAnswerSchema },
  { method: 'post', path: `${T}/-/recompute`, summary: 'Recompute computed columns', tag: 'columns', body: RecomputeRequestSchema, answer: UpdateStatusSchema },
  { method: 'get', path: `${T}/-/history`, summary: 'Versions, newest first', tag: 'versions', answer: HistoryAnswerSchema },
  { method: 'post', path: `${T}/-/revert`, summary: 'Undo the latest version', tag: 'versions', answer: RevertAnswerSchema },
]

/** The table named by a route's :path param (maybe 'path:N'), after checking the caller's access to it. */
export async function tableFromParam(db: Tessera, c: { req: { param(k: 'path'): string }; var: AuthEnv['Variables'] }, access: Access): Promise<Table> {
  const raw = c.req.param('path')
  assertCanTouch(c.var.principal, parsePath(raw, { allowVersion: true }).path, access)
  return db.getTable(raw)
}

/**
 * A create as the API answers it: 201 when this request made the object, 200 when ifExists 'ignore' found it there.
 * With 'ignore' the create is tried as 'error' first, so the answer says what happened to this request: a listing of
 * the dir before the create (the tables route) told every request racing to create one table 201, and the views,
 * snapshots and columns routes answered 201 for one that had long existed. `exists` is the code of "it is there".
 */
async function createdOrFound<I extends IfExists, T>(ifExists: I | undefined, create: (ifExists: I | 'error' | 'ignore' | undefined) => Promise<T>, exists = 'TABLE_ALREADY_EXISTS'): Promise<{ made: T; status: 200 | 201 }> {
  if (ifExists !== 'ignore') return { made: await create(ifExists), status: 201 }
  try {
    return { made: await create('error'), status: 201 }
  } catch (e) {
    if (!isTesseraError(e) || e.code !== exists) throw e
    return { made: await create('ignore'), status: 200 }
  }
}

export function tableRoutes(db: Tessera) {
  const app = new Hono<AuthEnv>()
  const table = (c: Parameters<typeof tableFromParam>[1], access: Access) => tableFromParam(db, c, access)

  app.get('/tables', async (c) => {
    const params = readParams(c, ListTablesParams)
    const dir = parsePath(params.dir ?? '', { allowRoot: true }).path
    assertCanList(c.var.principal, dir)
    const tables = await db.listTables(dir, { recursive: params.recursive ?? false })
    return c.json({ tables: visibleOnly(c.var.principal, tables) })
  })

  app.post('/tables', async (c) => {
    const body = await readJson(c, CreateTableRequestSchema)
    const path = parsePath(body.path).path
    assertCanTouch(c.var.principal, path, 'create')
    const { path: _path, schema, ifExists, ...options } = body
    const { made, status } = await createdOrFound(ifExists, (how) => db.createTable(path, schema, { ...options, ...(how ? { ifExists: how } : {}) }))
    return c.json(tableInfo(made), status)
  })

  app.get(`/tables/${TABLE}`, async (c) => {
    const { stamp } = readParams(c, TableInfoParams)
    if (stamp !== undefined) {
      // A stream's check after a page (version-stamps.ts): the table's info while version N is still that commit.
      const raw = c.req.param('path')
      assertCanTouch(c.var.principal, parsePath(raw, { allowVersion: true }).path, 'read')
      const t = await stampedTable(db, raw, stamp)
      c.header(STAMP_HEADER, stamp)
      return c.json(tableInfo(t))
    }
    const t = await table(c, 'read')
    // A pinned version's stamp, for a stream that pins it to send back after each page.
    if (t.pinnedVersion !== undefined) {
      const s = await versionStamp(t)
      if (s === undefined) throw notFound('VERSION_NOT_FOUND', `table '${t.path}' has no version ${t.pinnedVersion} any more (reverted or dropped just now)`, { path: t.path, version: t.pinnedVersion })
      c.header(STAMP_HEADER, s)
    }
    return c.json(tableInfo(t))
  })

  app.post('/views', async (c) => {
    const body = await readJson(c, CreateViewRequestSchema)
    assertCanTouch(c.var.principal, parsePath(body.path).path, 'create')
    const base = typeof body.base === 'string' ? body.base : await queryFromRequest(db, c, body.base)
    if (typeof base === 'string') assertCanTouch(c.var.principal, parsePath(base).path, 'read')
    const { made, status } = await createdOrFound(body.ifExists, (how) => db.createView(body.path, base, {
      ...(body.where ? { where: new Expr(body.where) } : {}),
      ...(body.iterator ? { iterator: body.iterator } : {}),
      ...(how ? { ifExists: how } : {}),
    }))
    return c.json(tableInfo(made), status)
  })

  app.post('/snapshots', async (c) => {
    const body = await readJson(c, CreateSnapshotRequestSchema)
    assertCanTouch(c.var.principal, parsePath(body.path).path, 'create')
    assertCanTouch(c.var.principal, parsePath(body.base, { allowVersion: true }).path, 'read')
    const { made, status } = await createdOrFound(body.ifExists, (how) => db.createSnapshot(body.path, body.base, how ? { ifExists: how } : {}))
    return c.json(tableInfo(made), status)
  })

  app.delete(`/tables/${TABLE}`, async (c) => {
    const path = parsePath(c.req.param('path')).path
    assertCanTouch(c.var.principal, path, 'write')
    const { force = false, ifNotExists } = readParams(c, DropParams)
    if (force) await assertDependentsWritable(db, c.var.principal, [path], `'${path}'`)
    await db.dropTable(path, { force, ifNotExists })
    return c.json({ dropped: path })
  })

  // rows
  app.get(`/tables/${TABLE}/-/rows`, async (c) => {
    // The page size is also capped by this server's answer-row limit.
    const cap = c.var.limits.maxAnswerRows
    const { limit: page } = RowsPageParams
    refuseUnknownParams(c, RowsPageParams)
    const limit = readParam(c, 'limit', { ...page, max: Math.min(page.max, cap), default: Math.min(page.default, cap) })
    const offset = readParam(c, 'offset', RowsPageParams.offset)
    const t = await table(c, 'read')
    const [rows, total] = await Promise.all([t.query().offset(offset).limit(limit).collect(), t.count()])
    return sendJson(c, { ...rows.toJSON(), total, offset, limit })
  })

  const checkRowCount = (c: { var: AuthEnv['Variables'] }, rows: readonly unknown[]) => {
    const max = c.var.limits.maxInsertRows
    if (rows.length > max) throw tooLarge(`${rows.length} rows in one request, more than ${max} (limit): send them in smaller requests, or stream a file to POST /api/v1/tables/{path}/-/import (CSV, JSON Lines, Parquet) for large loads`, { limit: max })
  }

  app.post(`/tables/${TABLE}/-/rows`, async (c) => {
    const body = await readJson(c, InsertRequestSchema)
    checkRowCount(c, body.rows)
    const t = await table(c, 'write')
    refuseNonFiniteNumbers(body.rows)
    return c.json(await t.insert(body.rows, body.onError ? { onError: body.onError } : {}), 201)
  })

  app.patch(`/tables/${TABLE}/-/rows`, async (c) => {
    const body = await readJson(c, UpdateRequestSchema)
    const t = await table(c, 'write')
    refuseNonFiniteNumbers([body.values], { update: true })
    return c.json(await t.update(body.values, { ...(body.where ? { where: new Expr(body.where) } : {}), cascade: body.cascade ?? true }))
  })

  app.post(`/tables/${TABLE}/-/delete`, async (c) => {
    const body = await readJson(c, DeleteRequestSchema)
    const t = await table(c, 'write')
    return c.json(await t.delete(body.where ? { where: new Expr(body.where) } : {}))
  })

  app.post(`/tables/${TABLE}/-/batch-update`, async (c) => {
    const body = await readJson(c, BatchUpdateRequestSchema)
    checkRowCount(c, body.rows)
    const t = await table(c, 'write')
    refuseNonFiniteNumbers(body.rows)
    return c.json(await t.batchUpdate(body.rows, { ifNotExists: body.ifNotExists ?? 'error', cascade: body.cascade ?? true }))
  })

  // columns
  app.post(`/tables/${TABLE}/-/columns`, async (c) => {
    const body = await readJson(c, AddColumnRequestSchema)
    const t = await table(c, 'write')
    if ((body.type === undefined) === (body.expr === undefined)) {
      return c.json({ error: { code: 'INVALID_ARGUMENT', message: 'give exactly one of type (a stored column) or expr (a computed column)' } }, 400)
    }
    const { made, status } = await createdOrFound(body.ifExists, (how) => {
      const opts = how ? { ifExists: how } : {}
      return body.expr
        ? t.addComputedColumn(body.name, new Expr(body.expr), { ...opts, ...(body.onError ? { onError: body.onError } : {}), ...(body.stored !== undefined ? { stored: body.stored } : {}) })
        : t.addColumn(body.name, body.type!, opts)
    }, 'COLUMN_ALREADY_EXISTS')
    return c.json({ status: made, table: tableInfo(t) }, status)
  })

  app.delete(`/tables/${TABLE}/-/columns/:name`, async (c) => {
    const name = v.parse(NameSchema, c.req.param('name'))
    const { ifNotExists } = readParams(c, DropPartParams)
    const t = await table(c, 'write')
    const status = await t.dropColumn(name, { ifNotExists })
    return c.json({ status, table: tableInfo(t) })
  })

  app.post(`/tables/${TABLE}/-/columns/:name/rename`, async (c) => {
    const body = await readJson(c, RenameColumnRequestSchema)
    const name = v.parse(NameSchema, c.req.param('name'))
    const t = await table(c, 'write')
    const status = await t.renameColumn(name, body.to)
    return c.json({ status, table: tableInfo(t) })
  })
  app.post(`/tables/${TABLE}/-/columns/:name/index`, async (c) => {
    const body = await readJson(c, AddScalarIndexRequestSchema)
    const name = v.parse(NameSchema, c.req.param('name'))
    const t = await table(c, 'write')
    const status = await t.addScalarIndex(name, body.ifExists ? { ifExists: body.ifExists } : {})
    return c.json({ status, table: tableInfo(t) })
  })

  app.delete(`/tables/${TABLE}/-/columns/:name/index`, async (c) => {
    const name = v.parse(NameSchema, c.req.param('name'))
    const { ifNotExists } = readParams(c, DropPartParams)
    const t = await table(c, 'write')
    const status = await t.dropScalarIndex(name, { ifNotExists })
    return c.json({ status, table: tableInfo(t) })
  })
  app.post(`/tables/${TABLE}/-/recompute`, async (c) => {
    const body = await readJson(c, RecomputeRequestSchema)
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
