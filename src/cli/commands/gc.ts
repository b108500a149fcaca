import { mediaStoreOptions, openHome } from '../target.ts'
import type { Command } from '../command.ts'
import { DATA_DIR_OPTIONS, err, out, STORE_HELP } from '../command.ts'

// `tessera gc`: deletes media files no remaining row version refers to (after a drop, a revert, a failed insert,
// or compaction); --dry-run lists what would go.

/** Where media lives, for the lifecycle commands: the same flags and variables as `tessera serve`. */
export const MEDIA_STORE_OPTIONS = { 'media-dir': { type: 'string' }, 'media-store': { type: 'string' } } as const
export { mediaStoreOptions }

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`

export const gcCommand: Command = {
  name: 'gc',
  summary: 'delete media files no row version refers to (--dry-run lists them)',
  maxArguments: 0,
  usage: 'tessera gc [--home DIR] [--database URL] [--media-dir DIR | --media-store s3://bucket/prefix] [--grace SECONDS] [--dry-run] [--json]',
  help: `Deletes media files (uploads, computed media) that no row version of any table refers to any more: after drops,
reverts, failed inserts, and deletes that compaction removed. Files younger than --grace are spared (a write may
be storing bytes before its rows commit).

options:
  -d, --home DIR     the data dir (default $TESSERA_HOME, else ~/.tessera)
${STORE_HELP}
  --grace SECONDS    spare files younger than this (default 3600)
  --dry-run          list what would be deleted
  --json             the report as JSON

examples:
  tessera gc --home ./data --dry-run
  tessera gc --media-store s3://media-bucket/prod --grace 600`,
  options: { ...DATA_DIR_OPTIONS, grace: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values) {
    const grace = values.grace === undefined ? undefined : Number(values.grace)
    if (grace !== undefined && !(Number.isFinite(grace) && grace >= 0)) {
      err(`--grace must be a number of seconds >= 0, got '${String(values.grace)}'`)
      return 2
    }
    const db = await openHome(values, 'tessera gc', { mustExist: true })
    try {
      const r = await db.gc({ ...(grace !== undefined ? { graceSeconds: grace } : {}), ...(values['dry-run'] ? { dryRun: true } : {}) })
      if (values.json) {
        out(JSON.stringify(r, null, 2))
        return 0
      }
      if (r.dryRun) for (const ref of r.orphanRefs) out(`would delete ${ref}`)
      if (r.orphans > r.orphanRefs.length) out(`… and ${r.orphans - r.orphanRefs.length} more`)
      for (const ref of r.missing.slice(0, 20)) err(`missing: ${ref} is referenced by rows but not in the media store`)
      out(`${r.files} media files (${mb(r.bytes)}): ${r.orphans} unreferenced (${mb(r.orphanBytes)})${r.dryRun ? ' would be deleted' : `, ${r.deleted} deleted (${mb(r.bytesFreed)})`}; ${r.recent} unreferenced but younger than the grace period kept; ${r.missing.length} missing`)
      return 0
    } finally {
      await db.close()
    }
  },
}
