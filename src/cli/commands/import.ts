import { statSync } from 'node:fs'
import { Tessera } from '../../catalog/index.ts'
import { importFile } from '../../io/index.ts'
import type { ImportFormat } from '../../io/index.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'
import { progressBar } from '../progress.ts'

export const importCommand: Command = {
  name: 'import',
  summary: 'import a CSV/TSV/JSON/JSONL/Parquet file or a folder of media files into a table (streamed)',
  usage: 'tessera import FILE|FOLDER TABLE [--format csv] [--type col:type ...] [--primary-key id] [--skip-bad-rows --report bad.jsonl] [--glob "**/*.jpg"] [--home DIR]',
  options: {
    ...HOME_OPTION, format: { type: 'string' }, type: { type: 'string', multiple: true }, 'primary-key': { type: 'string' },
    'skip-bad-rows': { type: 'boolean' }, report: { type: 'string' }, glob: { type: 'string' }, 'batch-size': { type: 'string' },
  },
  async run(values, positionals) {
    const [file, table] = positionals
    if (!file || !table) {
      err(`usage: ${importCommand.usage}`)
      return 2
    }
    const schema: Record<string, string> = {}
    for (const t of (values.type as string[] | undefined) ?? []) {
      const i = t.indexOf(':')
      if (i <= 0) {
        err(`--type takes column:type, got '${t}'`)
        return 2
      }
      schema[t.slice(0, i)] = t.slice(i + 1)
    }
    let totalBytes: number | undefined
    try {
      const st = statSync(file)
      totalBytes = st.isFile() ? st.size : undefined
    } catch { /* importFile reports it */ }
    const db = await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), command: 'tessera import' })
    const bar = progressBar(`import ${file} → ${table}`)
    try {
      const r = await importFile(db, table, file, {
        ...(values.format ? { format: values.format as ImportFormat } : {}),
        ...(Object.keys(schema).length ? { schema } : {}),
        ...(values['primary-key'] ? { primaryKey: String(values['primary-key']).split(',') } : {}),
        ...(values['skip-bad-rows'] ? { onBadRow: 'skip' as const } : {}),
        ...(values.report ? { reportFile: String(values.report) } : {}),
        ...(values.glob ? { glob: String(values.glob) } : {}),
        ...(values['batch-size'] ? { batchSize: Number(values['batch-size']) } : {}),
        onProgress: (p) => bar.update(`${p.rowsInserted} rows${p.rowsSkipped ? `, ${p.rowsSkipped} skipped` : ''}`, totalBytes ? Math.min(1, p.bytesRead / totalBytes) : undefined),
      })
      bar.done(`${r.rowsInserted} rows imported${r.rowsSkipped ? `, ${r.rowsSkipped} skipped${r.reportFile ? ` (see ${r.reportFile})` : ''}` : ''}${r.created ? ` into new table (${Object.entries(r.schema).map(([k, t]) => `${k} ${t}`).join(', ')})` : ''}`)
      out(JSON.stringify({ table: r.table, rowsInserted: r.rowsInserted, rowsSkipped: r.rowsSkipped, created: r.created }))
      return 0
    } finally {
      await db.close()
    }
  },
}
