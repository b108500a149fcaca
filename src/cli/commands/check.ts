import type { Command } from '../command.ts'
import { err, JSON_OPTION, out, TARGET_HELP, TARGET_OPTIONS } from '../command.ts'
import { printJson } from '../format.ts'
import { withTarget } from '../target.ts'

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify a data dir or a running server: catalog, versions, data tables, row versions, keys (exit 1 on problems)',
  maxArguments: 0,
  usage: 'tessera check [--json] [--home DIR [--media-dir DIR | --media-store s3://bucket/prefix] | --url URL --token ADMIN_TOKEN]',
  options: { ...TARGET_OPTIONS, ...JSON_OPTION },
  help: `Read-only for the data. On a server it needs an admin token (GET /api/v1/admin/check). Exit code 1 when problems
are found. A native vector index (derived data under <home>/indexes/) whose file failed verification, or that lacks
vectors, is reported and rebuilt from the table, and saved before check returns: the next check finds it whole.

options:
  --json             {"tables": n, "problems": [{"table", "problem"}], "media": {...}, "repaired": [...]}
${TARGET_HELP}

examples:
  tessera check --home ./data
  tessera check --url http://127.0.0.1:8080 --token $ADMIN_TOKEN`,
  async run(values) {
    const { tables, problems, media, repaired } = (await withTarget(values, 'tessera check', (db) => db.check(), { mustExist: true })) as CheckReport
    if (values.json) printJson({ tables, problems, ...(media ? { media } : {}), ...(repaired ? { repaired } : {}) })
    else {
      // Writes killed before their final step leave rows under a version never committed: opening removed them.
      for (const r of repaired ?? []) out(`repaired at open: ${r.rows} row versions of an unfinished write in '${r.table}' removed (never visible)`)
      for (const p of problems) err(`${p.table}: ${p.problem}`)
      if (media) out(`media: ${media.files} files, ${media.orphans} orphans (${(media.orphanBytes / 1048576).toFixed(1)} MB; \`tessera gc\` deletes them), ${media.missing.length} missing${media.recent ? `, ${media.recent} unreferenced files younger than an hour (writes may be under way)` : ''}`)
      out(problems.length === 0 ? `ok: ${tables} tables consistent` : `${problems.length} problems in ${tables} tables`)
    }
    return problems.length === 0 ? 0 : 1
  },
}

interface CheckReport {
  readonly tables: number
  readonly problems: readonly { table: string; problem: string }[]
  readonly media?: { files: number; orphans: number; orphanBytes: number; missing: readonly string[]; recent?: number }
  readonly repaired?: readonly { table: string; rows: number }[]
}
