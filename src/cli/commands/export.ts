import { Tessera } from '../../catalog/index.ts'
import { exportQuery } from '../../io/index.ts'
import type { ExportFormat } from '../../io/index.ts'
import { queryFromJson } from '../../query/json-query.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'
import { progressBar } from '../progress.ts'

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a table or query result to JSONL, CSV or Parquet (streamed)',
  usage: "tessera export TABLE[:version] OUT.(jsonl|csv|parquet) [--query '{\"where\": ...}'] [--media copy] [--home DIR]",
  options: { ...HOME_OPTION, query: { type: 'string' }, format: { type: 'string' }, media: { type: 'string' } },
  async run(values, positionals) {
    const [table, target] = positionals
    if (!table || !target) {
      err(`usage: ${exportCommand.usage}`)
      return 2
    }
    const db = await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), command: 'tessera export' })
    const bar = progressBar(`export ${table} → ${target}`)
    try {
      const spec = values.query ? JSON.parse(String(values.query)) : {}
      const query = await queryFromJson(db, { ...spec, table })
      const r = await exportQuery(query, target, {
        ...(values.format ? { format: values.format as ExportFormat } : {}),
        ...(values.media === 'copy' ? { media: 'copy' as const } : {}),
        onProgress: (p) => bar.update(`${p.rows} rows`),
      })
      bar.done(`done`)
      out(JSON.stringify(r))
      return 0
    } finally {
      await db.close()
    }
  },
}
