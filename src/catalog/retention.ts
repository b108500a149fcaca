import { invalid, notFound } from '../errors.ts'
import type { Queryable } from '../store/index.ts'
import type { TableState } from './state.ts'
import { dependentsOf } from './views.ts'

// Retention: which versions of a table keep their rows. A policy keeps the last N versions and/or the versions
// newer than a duration (a version is kept when either rule keeps it); the current version, versions pinned by
// snapshots and the base versions views still have to follow are always kept. Compaction (compact.ts) removes the
// row versions no kept version can see and records the boundary in tessera.compacted; the version list itself
// (tessera.versions, history()) stays whole.

export interface RetentionPolicy {
  /** Keep the rows of the last N versions (N >= 1; 1 = only the current version). */
  readonly keepVersions?: number
  /** Keep the rows of versions newer than this: seconds, or '90s', '15m', '12h', '7d', '2w'. */
  readonly keepFor?: number | string
}

/** A policy in stored form, and where it came from. */
export interface EffectiveRetention {
  readonly keepVersions?: number
  readonly keepSeconds?: number
  /** 'table': set on the table; 'database': the database default; 'none': no policy (every version is kept). */
  readonly source: 'table' | 'database' | 'none'
}

/** Which versions of a table still have their rows: every version >= oldest, and the versions in kept. */
export interface RetainedVersions {
  readonly oldest: number
  readonly kept: readonly number[]
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }
const MAX_SECONDS = 100 * 365 * 86400

export function parseDuration(value: number | string, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > MAX_SECONDS) throw invalid('INVALID_ARGUMENT', `${what} must be a number of seconds between 0 and ${MAX_SECONDS}, got ${value}`)
    return Math.floor(value)
  }
  const m = /^\s*(\d{1,10})\s*([smhdw])\s*$/i.exec(String(value))
  if (!m) throw invalid('INVALID_ARGUMENT', `${what} must be seconds or a duration like '90s', '15m', '12h', '7d', '2w'; got '${String(value).slice(0, 40)}'`)
  const secs = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!
  if (secs > MAX_SECONDS) throw invalid('INVALID_ARGUMENT', `${what} is longer than 100 years`)
  return secs
}

/** Validates a policy; null/undefined fields mean "no rule". */
export function normalizePolicy(policy: RetentionPolicy, what = 'retention'): { keepVersions?: number; keepSeconds?: number } {
  if (!policy || typeof policy !== 'object') throw invalid('INVALID_ARGUMENT', `${what} must be an object { keepVersions?, keepFor? }`)
  const unknown = Object.keys(policy).filter((k) => k !== 'keepVersions' && k !== 'keepFor')
  if (unknown.length) throw invalid('INVALID_ARGUMENT', `${what}: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')}; use keepVersions and/or keepFor`)
  const out: { keepVersions?: number; keepSeconds?: number } = {}
  if (policy.keepVersions !== undefined && policy.keepVersions !== null) {
    const n = policy.keepVersions
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) throw invalid('INVALID_ARGUMENT', `${what}: keepVersions must be an integer >= 1 (1 keeps only the current version), got ${String(n)}`)
    out.keepVersions = n
  }
  if (policy.keepFor !== undefined && policy.keepFor !== null) out.keepSeconds = parseDuration(policy.keepFor, `${what}: keepFor`)
  if (out.keepVersions === undefined && out.keepSeconds === undefined) throw invalid('INVALID_ARGUMENT', `${what} needs keepVersions and/or keepFor (pass null to remove a policy)`)
  return out
}

/** Sets (or with null removes) the policy of one table, or the database default when tableId is undefined. */
export async function storePolicy(db: Queryable, tableId: number | undefined, policy: RetentionPolicy | null): Promise<void> {
  const p = policy === null ? undefined : normalizePolicy(policy)
  if (tableId === undefined) {
    if (!p) await db.query(`delete from tessera.meta where key = 'retention'`)
    else await db.query(`insert into tessera.meta(key, value) values ('retention', $1::jsonb) on conflict (key) do update set value = excluded.value`, [JSON.stringify(p)])
    return
  }
  if (!p) await db.query(`delete from tessera.retention where table_id = $1`, [tableId])
  else {
    await db.query(
      `insert into tessera.retention(table_id, keep_versions, keep_seconds) values ($1, $2, $3) on conflict (table_id) do update set keep_versions = excluded.keep_versions, keep_seconds = excluded.keep_seconds`,
      [tableId, p.keepVersions ?? null, p.keepSeconds ?? null],
    )
  }
}

/**
 * The policy that applies to a table (its own, else the database default), or the database default. `databaseDefault`:
 * this one instead of the stored default (what a compaction would do with it saved: a dry run of `compact --save`).
 */
export async function effectivePolicy(db: Queryable, tableId?: number, databaseDefault?: RetentionPolicy): Promise<EffectiveRetention> {
  if (tableId !== undefined) {
    const r = await db.query<{ keep_versions: number | null; keep_seconds: string | number | null }>(`select keep_versions, keep_seconds from tessera.retention where table_id = $1`, [tableId])
    const row = r.rows[0]
    if (row) return { ...(row.keep_versions !== null ? { keepVersions: row.keep_versions } : {}), ...(row.keep_seconds !== null ? { keepSeconds: Number(row.keep_seconds) } : {}), source: 'table' }
  }
  if (databaseDefault) return { ...normalizePolicy(databaseDefault, 'defaultRetention'), source: 'database' }
  const d = await db.query<{ value: { keepVersions?: number; keepSeconds?: number } }>(`select value from tessera.meta where key = 'retention'`)
  const v = d.rows[0]?.value
  return v ? { ...v, source: 'database' } : { source: 'none' }
}

export async function retainedVersions(db: Queryable, tableId: number): Promise<RetainedVersions> {
  const r = await db.query<{ oldest: number; kept: number[] }>(`select oldest, kept from tessera.compacted where table_id = $1`, [tableId])
  return r.rows[0] ? { oldest: r.rows[0].oldest, kept: r.rows[0].kept.map(Number) } : { oldest: 0, kept: [] }
}

export const isRetained = (r: RetainedVersions, version: number): boolean => version >= r.oldest || r.kept.includes(version)

/** Time travel to a version whose rows compaction removed fails here, naming the oldest version that remains. */
export async function assertVersionRetained(db: Queryable, tableId: number, path: string, version: number): Promise<void> {
  const r = await retainedVersions(db, tableId)
  if (isRetained(r, version)) return
  const pinned = r.kept.length ? ` (and versions ${r.kept.join(', ')}, pinned by snapshots)` : ''
  throw notFound('VERSION_NOT_FOUND', `version ${version} of table '${path}' was removed by compaction (a retention policy, or compact()'s keepVersions / keepFor); the oldest retained version is ${r.oldest}${pinned}. Its metadata stays in history()`, { path, version, oldestRetained: r.oldest, kept: r.kept })
}

/**
 * Revert of the latest version brings back the one before it, so that one must still have its rows. `root`: the
 * table the user reverts, when `state` is a view that would follow that revert by reverting itself (the error said
 * "cannot revert 'v'" to a caller who had reverted 't').
 */
export async function assertRevertRetained(tx: Queryable, state: TableState, root: string = state.path): Promise<void> {
  const r = await retainedVersions(tx, state.id)
  const target = state.version - 1
  if (isRetained(r, target)) return
  if (root === state.path) {
    throw invalid('INVALID_ARGUMENT', `cannot revert '${state.path}' to version ${target}: compaction removed its rows (the oldest retained version is ${r.oldest}); loosen the retention policy to keep more versions`, { path: state.path, version: target, oldestRetained: r.oldest })
  }
  throw invalid('INVALID_ARGUMENT', `view '${state.path}' cannot follow this revert of '${root}', which takes it back to its version ${target}: compaction removed its rows (the oldest retained version of '${state.path}' is ${r.oldest}); loosen the retention policy of '${state.path}' to keep more versions`, { path: state.path, table: root, version: target, oldestRetained: r.oldest })
}

export interface RetentionOverride {
  readonly keepVersions?: number
  readonly keepFor?: number | string
}

/**
 * Decides, on the locked catalog row of `state`, which versions keep their rows, and records it in tessera.compacted
 * before any row goes (so a revert or time travel started afterwards is refused instead of reading half a version);
 * record: false only computes it (dry runs). databaseDefault: this run's database default (effectivePolicy). held:
 * the oldest version reads in flight in this process still read (read-holds.ts): every version from it is kept, and
 * `heldForReads` says so where that kept more than the rules. Returns the decision and the previous one.
 */
export async function planRetention(tx: Queryable, state: TableState, override?: RetentionOverride, options: { record?: boolean; held?: number; databaseDefault?: RetentionPolicy } = {}): Promise<{ retained: RetainedVersions; previous: RetainedVersions; policy: EffectiveRetention; heldForReads?: number }> {
  const previous = await retainedVersions(tx, state.id)
  const policy: EffectiveRetention = override && (override.keepVersions !== undefined || override.keepFor !== undefined)
    ? { ...normalizePolicy(override, 'compact'), source: 'table' }
    : await effectivePolicy(tx, state.id, options.databaseDefault)
  const current = state.version
  let oldest = previous.oldest
  if (policy.keepVersions !== undefined || policy.keepSeconds !== undefined) {
    const byCount = policy.keepVersions !== undefined ? Math.max(0, current - policy.keepVersions + 1) : undefined
    let byAge: number | undefined
    if (policy.keepSeconds !== undefined) {
      const r = await tx.query<{ v: number | null }>(
        `select min(version) as v from tessera.versions where table_id = $1 and created_at >= now() - make_interval(secs => $2)`, [state.id, policy.keepSeconds])
      byAge = r.rows[0]?.v ?? current
    }
    // A version is kept when either rule keeps it.
    oldest = Math.min(byCount ?? Number.MAX_SAFE_INTEGER, byAge ?? Number.MAX_SAFE_INTEGER)
  }
  const snapshots: number[] = []
  for (const d of await dependentsOf(tx, state.id)) {
    if (d.md.snapshot) snapshots.push(d.md.snapshot.version)
    // A view follows its base from the base version it last reflected: everything after it must stay readable.
    if (d.md.view && d.md.view.syncedBaseVersion >= 0) oldest = Math.min(oldest, d.md.view.syncedBaseVersion)
  }
  oldest = Math.min(Math.max(oldest, previous.oldest), current)
  // A stream reads its version page by page: the rows it has yet to read stay until it is done.
  let heldForReads: number | undefined
  if (options.held !== undefined && options.held < oldest) {
    const held = Math.max(options.held, previous.oldest)
    if (held < oldest) {
      oldest = held
      heldForReads = held
    }
  }
  const kept = [...new Set(snapshots.filter((v) => v < oldest))].sort((a, b) => a - b)
  const retained = { oldest, kept }
  if (options.record !== false && (oldest !== previous.oldest || kept.join() !== previous.kept.join())) {
    await tx.query(
      `insert into tessera.compacted(table_id, oldest, kept) values ($1, $2, $3::integer[]) on conflict (table_id) do update set oldest = excluded.oldest, kept = excluded.kept, compacted_at = now()`,
      [state.id, oldest, kept],
    )
  }
  return { retained, previous, policy, ...(heldForReads !== undefined ? { heldForReads } : {}) }
}
