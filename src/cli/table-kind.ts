import type { Table } from '../catalog/index.ts'
import type { Target } from './target.ts'
import { isRemote } from './target.ts'

// What a path names, for listings and messages: a table, a view or a snapshot, and the version it reads (a
// snapshot's is the base version it pins, not its own version 0).

export interface TableKind {
  readonly kind: 'table' | 'view' | 'snapshot'
  /** The version shown: a snapshot's pinned base version; else the table's or view's version. */
  readonly version: number
}

export async function tableKind(db: Target, table: { readonly path: string; readonly version: number }): Promise<TableKind> {
  if (!isRemote(db)) {
    const md = (table as Table).md
    if (md.snapshot) return { kind: 'snapshot', version: md.snapshot.version }
    return { kind: md.view ? 'view' : 'table', version: table.version }
  }
  // A server's table info says its kind (GET /api/v1/tables/{path}); a snapshot's pinned version is not in it.
  const info = await db.http.request<{ kind: TableKind['kind']; version: number }>('GET', `/api/v1/tables/${table.path}`)
  return { kind: info.kind, version: info.version }
}
