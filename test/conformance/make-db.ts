import type { Tessera } from '../../src/index.ts'
import { RemoteTessera } from '../../src/client/index.ts'
import { reviveRows } from '../../src/client/http-executor.ts'
import type { ResultColumn } from '../../src/query/results.ts'
import { queryFromJson } from '../../src/api/json-query.ts'

/**
 * A fresh, empty database on the store under test (each call independent). test/client/conformance.test.ts passes
 * an HTTP client (RemoteTessera) against an in-process server here, typed as the library it stands in for.
 */
export type MakeDb = () => Promise<Tessera>

/** True when the suite runs through the HTTP client: tests of the library's internals (plans) skip those parts. */
export const isRemote = (db: unknown): boolean => db instanceof RemoteTessera

/**
 * The JSON query API as the database under test serves it: queryFromJson for the library, POST /api/v1/query over
 * HTTP. Either way the rows and columns come back, or the error with its JSON path.
 */
export async function runJsonQuery(db: Tessera, body: unknown): Promise<{ readonly columns: readonly ResultColumn[]; readonly rows: readonly Record<string, unknown>[] }> {
  if (db instanceof RemoteTessera) {
    const r = await (db as RemoteTessera).http.request<{ columns: ResultColumn[]; rows: Record<string, unknown>[] }>('POST', '/api/v1/query', body)
    return { columns: r.columns, rows: reviveRows(r.columns, r.rows) }
  }
  const rs = await (await queryFromJson(db, body)).collect()
  return { columns: [...rs.columns], rows: [...rs.rows] }
}
