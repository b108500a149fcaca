import { describeCompaction, parseDuration } from '../../catalog/index.ts'
import { openHome } from '../target.ts'
import type { Command } from '../command.ts'
import { DATA_DIR_OPTIONS, err, out, STORE_HELP } from '../command.ts'

// `tessera compact`: removes row versions no retained version can see (retention policies, or --keep-versions /
// --keep-for for this run; --save stores them as the policy), vacuums and collects unreferenced media.

export const compactCommand: Command = {
  name: 'compact',
  summary: 'remove row versions outside the retention policy, vacuum, and delete unreferenced media',
  maxArguments: 0,
  usage: 'tessera compact [--home DIR] [--database URL] [--media-dir DIR | --media-store s3://bucket/prefix] [--keep-versions N] [--keep-for 7d] [--table PATH]… [--save] [--full | --no-full] [--no-media] [--grace SECONDS] [--dry-run] [--json]',
  help: `Removes the row versions no retained version can see (the retention policies, or --keep-versions/--keep-for for
this run), vacuums, and deletes media files no remaining row refers to. History stays as metadata; time travel to a
removed version fails naming the oldest retained one. Stop the server first, or use POST /api/v1/admin/compact.

options:
  -d, --home DIR          the data dir (default $TESSERA_HOME, else ~/.tessera)
${STORE_HELP}
  --keep-versions N       keep the last N versions of each table (this run; --save stores it as the default policy)
  --keep-for 7d           keep versions newer than this (s, m, h, d)
  --table PATH            only these tables (repeatable)
  --save                  store the given rules as the database's retention policy
  --full | --no-full      force VACUUM FULL (rewrite, the dir shrinks) or plain VACUUM (default: by the share removed)
  --no-media              skip the media garbage collection
  --grace SECONDS         spare media files younger than this (default 3600)
  --dry-run               report what would be removed, remove nothing
  --json                  the report as JSON

examples:
  tessera compact --home ./data --keep-versions 1 --dry-run
  tessera compact --home ./data --keep-for 30d --save`,
  options: {
    ...DATA_DIR_OPTIONS,
    'keep-versions': { type: 'string' }, 'keep-for': { type: 'string' }, table: { type: 'string', multiple: true }, save: { type: 'boolean' },
    full: { type: 'boolean' }, 'no-full': { type: 'boolean' }, 'no-media': { type: 'boolean' }, grace: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' },
  },
  async run(values) {
    // Wrong usage (exit 2) is told before the data dir is opened, quoting what was given.
    const quoted = (v: unknown) => `'${String(v).slice(0, 40)}'`
    const rawKeep = values['keep-versions']
    const keepVersions = rawKeep === undefined ? undefined : /^\s*\d{1,10}\s*$/.test(String(rawKeep)) ? Number(rawKeep) : NaN
    if (keepVersions !== undefined && !(keepVersions >= 1 && keepVersions <= 2 ** 31 - 1)) {
      err(`--keep-versions must be an integer >= 1 (1 keeps only the current version), got ${quoted(rawKeep)}`)
      return 2
    }
    const rawFor = values['keep-for']
    const keepFor = rawFor === undefined ? undefined : /^\d+$/.test(String(rawFor)) ? Number(rawFor) : String(rawFor)
    if (keepFor !== undefined) {
      try {
        parseDuration(keepFor, '--keep-for')
      } catch {
        err(`--keep-for must be seconds or a duration like 90s, 15m, 12h, 7d, 2w; got ${quoted(rawFor)}`)
        return 2
      }
    }
    const grace = values.grace === undefined ? undefined : /^\s*\d+(\.\d+)?\s*$/.test(String(values.grace)) ? Number(values.grace) : NaN
    if (grace !== undefined && !Number.isFinite(grace)) {
      err(`--grace must be a number of seconds >= 0, got ${quoted(values.grace)}`)
      return 2
    }
    const tables = values.table as string[] | undefined
    if (values.full && values['no-full']) {
      err('pass either --full or --no-full')
      return 2
    }
    if (values.save && keepVersions === undefined && keepFor === undefined) {
      err('--save stores --keep-versions and/or --keep-for as the retention policy: pass at least one')
      return 2
    }
    const dryRun = values['dry-run'] === true
    // Failures from here on (a table that does not exist, the data dir in use) are the CLI's (src/cli/errors.ts).
    // The database and media of serve (--database / TESSERA_DATABASE_URL, --media-dir / TESSERA_MEDIA_DIR): an empty
    // local store opened by mistake would find every shared media file unreferenced and delete it.
    const db = await openHome(values, 'tessera compact', { mustExist: true })
    try {
      const policy = { ...(keepVersions !== undefined ? { keepVersions } : {}), ...(keepFor !== undefined ? { keepFor } : {}) }
      const savedFor = tables ? tables.join(', ') : 'the database (tables without a policy of their own)'
      // Saved, a database default applies to the tables without a policy of their own, a table's to that table:
      // a dry run plans with it so, and stores nothing.
      let rules: { keepVersions?: number; keepFor?: number | string; defaultRetention?: typeof policy } = policy
      if (values.save && !dryRun) {
        for (const t of tables ?? [undefined]) await db.setRetention(policy, t)
        if (!values.json) out(`retention saved for ${savedFor}`)
        rules = {}
      } else if (values.save) {
        if (!values.json) out(`retention would be saved for ${savedFor} (dry run: nothing saved)`)
        if (!tables) rules = { defaultRetention: policy }
      }
      const report = await db.compact({
        ...rules,
        ...(tables ? { tables } : {}),
        ...(values.full ? { full: true } : values['no-full'] ? { full: false } : {}),
        ...(values['no-media'] ? { media: false } : {}),
        ...(grace !== undefined ? { graceSeconds: grace } : {}),
        ...(dryRun ? { dryRun: true } : {}),
      })
      if (values.json) out(JSON.stringify(report, null, 2))
      else {
        for (const t of report.tables) {
          if (t.rowVersionsRemoved === 0 && t.columnsDropped.length === 0) continue
          const kept = `${t.keptVersions.length ? ` + ${t.keptVersions.join(', ')} (snapshots)` : ''}${t.heldForReads !== undefined ? ` (from ${t.heldForReads} for streams in flight)` : ''}`
          out(`${t.path}: versions ${t.oldestVersion}..${t.version}${kept} kept, ${t.rowVersionsRemoved} row versions ${report.dryRun ? 'to remove' : 'removed'}${t.columnsDropped.length ? `, ${t.columnsDropped.length} dropped columns' data` : ''}${report.dryRun ? '' : `, ${(t.bytesBefore / 1048576).toFixed(1)} → ${(t.bytesAfter / 1048576).toFixed(1)} MB (${t.vacuum} vacuum)`}`)
        }
        out(describeCompaction(report))
      }
      return 0
    } finally {
      await db.close()
    }
  },
}
