import type { ParamSpecs } from '../api/index.ts'
import type { Table, Tessera } from '../catalog/index.ts'
import { parsePath } from '../catalog/index.ts'
import { conflict, invalid, notFound, TesseraError } from '../errors.ts'

// The HTTP client's stream() reads pages of POST /query, each at the version ('t:5') current when the stream started.
// A version number does not say which commit it is: a revert frees the number and the next write takes it again, so
// a later page would read another commit's rows. The in-process stream compares each version's commit stamp after
// every page (QueryExecutor.watchVersion); over HTTP the server hands that stamp out with a pinned table's info
// (GET /tables/t:5 answers a Tessera-Version-Stamp header) and checks it when the client sends it back after each
// page (GET /tables/t:5?stamp=...): the table's info while the stamp holds, else the stream's error, decided here
// where the catalog can tell a revert from a drop.

/** The answer header that carries a pinned version's stamp (src/client/stream-pins.ts reads it). */
export const STAMP_HEADER = 'Tessera-Version-Stamp'

/** GET /tables/{path}: `stamp`, a stamp that header gave; checked, never trusted (the server compares its own). */
export const TableInfoParams = { stamp: { kind: 'string', maxLength: 100 } } as const satisfies ParamSpecs

// '<table id>.<version>.<commit stamp>': what the rows come from (a snapshot's are its base's), and which commit of
// that version it was (Table.versionStamp: its commit time as the catalog keeps it, base64url here so that the stamp
// travels in a URL as it is and is read back by one pattern).
const STAMP = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/

/** The stamp of the version a handle reads, or undefined when that version is gone (reverted since it was resolved). */
export async function versionStamp(t: Table): Promise<string | undefined> {
  const source = t.querySource()
  const at = await t.versionStamp()
  return at === undefined ? undefined : `${source.tableId}.${source.version ?? t.version}.${Buffer.from(at).toString('base64url')}`
}

/**
 * The table 'path:N' names, if version N is still the commit `stamp` names: a stream's check after each page.
 * Reverted since: CONCURRENCY_CONFLICT (retryable; as in process). The table dropped, or another table at its path
 * now: TABLE_NOT_FOUND. A version removed by compaction keeps its own VERSION_NOT_FOUND.
 */
export async function stampedTable(db: Tessera, raw: string, stamp: string): Promise<Table> {
  const m = STAMP.exec(stamp)
  if (!m) throw invalid('INVALID_ARGUMENT', `query parameter 'stamp' must be a ${STAMP_HEADER} header as GET /api/v1/tables/{path}:N answers it, got ${JSON.stringify(stamp.slice(0, 40))}`, { parameter: 'stamp' })
  const { path, version } = parsePath(raw, { allowVersion: true })
  if (version === undefined) throw invalid('INVALID_ARGUMENT', `query parameter 'stamp' checks a pinned version: name it as '${path}:N'`, { parameter: 'stamp' })
  const tableId = Number(m[1])
  const reverted = () => conflict('CONCURRENCY_CONFLICT', `version ${version} of '${path}' was reverted while a stream read it: its other rows are gone (the number may be a newer write's now); start the stream again`, { path, version })
  const dropped = () => notFound('TABLE_NOT_FOUND', `table '${path}' was dropped while a stream read it`, { path })

  /** Version N is gone, or is another table's: a drop when the path names another table now, else `why`. */
  const gone = async (why: (current: Table) => unknown): Promise<never> => {
    const current = await db.getTable(path).catch((e: unknown) => Promise.reject(isCode(e, 'TABLE_NOT_FOUND') ? dropped() : e))
    if (current.querySource().tableId !== tableId) throw dropped()
    throw why(current)
  }

  let t: Table
  try {
    t = await db.getTable(raw)
  } catch (e) {
    if (isCode(e, 'TABLE_NOT_FOUND')) throw dropped()
    // Past the current version: popped by a revert. Within it: removed by compaction, which keeps its own error.
    if (isCode(e, 'VERSION_NOT_FOUND')) return gone((current) => (version > current.version ? reverted() : e))
    throw e
  }
  const now = await versionStamp(t)
  // Compaction keeps every version's catalog row: one missing now was popped by a revert since getTable read it.
  if (now === undefined) return gone(reverted)
  if (now === stamp) return t
  const [, nowId, nowVersion] = STAMP.exec(now)!
  if (Number(nowId) !== tableId) throw dropped()
  // The same table, and a stamp of another version: a client's mistake, not a revert.
  if (nowVersion !== m[2]) throw invalid('INVALID_ARGUMENT', `query parameter 'stamp' is the stamp of another version than '${raw}'`, { parameter: 'stamp' })
  throw reverted()
}

const isCode = (e: unknown, code: string): boolean => e instanceof TesseraError && e.code === code
