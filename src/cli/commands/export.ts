import { exportFormatOf, exportQuery } from '../../io/index.ts'
import type { ExportFormat } from '../../io/index.ts'
import { queryFromJson } from '../../api/index.ts'
import type { Command } from '../command.ts'
import { DATA_DIR_OPTIONS, out, STORE_HELP, UsageError } from '../command.ts'
import { parseJsonOption } from '../format.ts'
import { progressBar } from '../progress.ts'
import { openHome } from '../target.ts'

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a table or query result to JSONL, CSV or Parquet (streamed)',
  maxArguments: 2,
  usage: "tessera export TABLE[:version] OUT.(jsonl|csv|parquet) [--query '{\"where\": ...}'] [--media copy] [--home DIR]",
  help: `Streams the rows (any size) to a file; the format follows the extension unless --format says otherwise.

options:
  --query JSON       the JSON body of POST /api/v1/query without "table" (where, select, orderBy, limit, ...)
  --format F         jsonl|csv|parquet
  --media copy       copy media files into a folder beside OUT and write relative paths
  -d, --home DIR     the data dir (a running server: POST /api/v1/export)
${STORE_HELP}

examples:
  tessera export app/people people.parquet
  tessera export app/docs:3 v3.jsonl
  tessera export app/people adults.csv --query '{"where": {"fn": "ge", "args": [{"col": "age"}, {"lit": 18}]}}'`,
  options: { ...DATA_DIR_OPTIONS, query: { type: 'string' }, format: { type: 'string' }, media: { type: 'string' } },
  async run(values, positionals) {
    const [table, target] = positionals
    if (!table || !target) throw new UsageError('give the table and the output file')
    // Anything but 'copy' used to export without copying, without a word (--media cpoy).
    if (values.media !== undefined && values.media !== 'copy' && values.media !== 'path') throw new UsageError(`--media takes copy (or path, the default), got '${String(values.media)}'`)
    const format = exportFormat(values.format, target)
    const spec = values.query ? parseJsonOption('--query', String(values.query)) : {}
    const db = await openHome(values, 'tessera export', { mustExist: true })
    const bar = progressBar(`export ${table} → ${target}`)
    try {
      const query = await queryFromJson(db, { ...spec, table })
      const r = await exportQuery(query, target, {
        format,
        // media:// refs (uploaded bytes, data: URLs, computed media) are copied from this data dir's media store.
        ...(values.media === 'copy' ? { media: 'copy' as const, mediaEnv: db.media } : {}),
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

const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv', 'parquet']

/**
 * The format to write, from --format or else OUT's extension, checked before the data dir opens: a format the
 * library cannot write is wrong usage (exit 2 with the usage line), where it used to open the store and exit 1.
 */
function exportFormat(option: unknown, target: string): ExportFormat {
  if (option === undefined) {
    const format = exportFormatOf(target)
    if (!format) throw new UsageError(`cannot tell the export format of '${target}' (.jsonl, .ndjson, .csv, .parquet or .pq); pass --format ${EXPORT_FORMATS.join('|')}`)
    return format
  }
  const format = String(option)
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown --format '${format}'; use one of ${EXPORT_FORMATS.join(', ')}`)
  return format as ExportFormat
}
