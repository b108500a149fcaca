import type { Command } from '../command.ts'
import { err, JSON_OPTION, out, TARGET_HELP, TARGET_OPTIONS } from '../command.ts'
import { printJson } from '../format.ts'
import { withTarget } from '../target.ts'

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify a data dir or a running server: catalog, versions, data tables, row versions, keys (exit 1 on problems)',
  usage: 'tessera check [--json] [--home DIR | --url URL --token ADMIN_TOKEN]',
  options: { ...TARGET_OPTIONS, ...JSON_OPTION },
  help: `Read-only. On a server it needs an admin token (GET /api/v1/admin/check). Exit code 1 when problems are found.

options:
  --json             {"tables": n, "problems": [{"table", "problem"}]}
${TARGET_HELP}

examples:
  tessera check --home ./data
  tessera check --url http://127.0.0.1:8080 --token $ADMIN_TOKEN`,
  async run(values) {
    const { tables, problems } = await withTarget(values, 'tessera check', (db) => db.check())
    if (values.json) printJson({ tables, problems })
    else {
      for (const p of problems) err(`${p.table}: ${p.problem}`)
      out(problems.length === 0 ? `ok: ${tables} tables consistent` : `${problems.length} problems in ${tables} tables`)
    }
    return problems.length === 0 ? 0 : 1
  },
}
