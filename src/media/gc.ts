import type { MediaBackend } from './store.ts'

// Media garbage collection, mark and sweep: the catalog marks (every store ref any remaining row version holds, see
// catalog/compaction.ts collectStoreRefs); this sweeps the store. Bytes are stored before the row that names them
// commits (uploads, computed media, job batches), so objects written within the grace period are never collected:
// they may belong to a write still under way. A put of bytes already stored renews them (store.ts).

export const DEFAULT_GC_GRACE_SECONDS = 3600
/** How many refs a report lists by name (counts are always complete). */
const LISTED = 1000

export interface GcOptions {
  /** Report what would be deleted, delete nothing. */
  readonly dryRun?: boolean
  /** Spare objects written less than this many seconds ago (default 3600). */
  readonly graceSeconds?: number
}

export interface GcReport {
  /** Objects in the store. */
  readonly files: number
  readonly bytes: number
  /** Objects no row version refers to, older than the grace period. */
  readonly orphans: number
  readonly orphanBytes: number
  /** Unreferenced objects spared because they are younger than the grace period. */
  readonly recent: number
  /** Orphans deleted (0 on a dry run). */
  readonly deleted: number
  readonly bytesFreed: number
  /** Refs that rows hold but the store lacks (lost files: restore them from a backup). */
  readonly missing: readonly string[]
  /** The orphans' refs (the first 1,000). */
  readonly orphanRefs: readonly string[]
  readonly dryRun: boolean
}

/** Deletes the store's objects that are not in `referenced` and older than the grace period. */
export async function sweepMedia(store: MediaBackend, referenced: ReadonlySet<string>, options: GcOptions = {}): Promise<GcReport> {
  const grace = options.graceSeconds ?? DEFAULT_GC_GRACE_SECONDS
  if (!Number.isFinite(grace) || grace < 0) throw new RangeError(`graceSeconds must be >= 0, got ${grace}`)
  const cutoff = Date.now() - grace * 1000
  const dryRun = options.dryRun === true
  let files = 0, bytes = 0, orphans = 0, orphanBytes = 0, recent = 0, deleted = 0, bytesFreed = 0
  const orphanRefs: string[] = []
  const present = new Set<string>()
  for await (const obj of store.list()) {
    files++
    bytes += obj.bytes
    present.add(obj.ref)
    if (referenced.has(obj.ref)) continue
    if (obj.modifiedMs > cutoff) {
      recent++
      continue
    }
    orphans++
    orphanBytes += obj.bytes
    if (orphanRefs.length < LISTED) orphanRefs.push(obj.ref)
    if (!dryRun && (await store.delete(obj.ref))) {
      deleted++
      bytesFreed += obj.bytes
    }
  }
  const missing = [...referenced].filter((r) => store.owns(r) && !present.has(r)).sort()
  return { files, bytes, orphans, orphanBytes, recent, deleted, bytesFreed, missing, orphanRefs, dryRun }
}
