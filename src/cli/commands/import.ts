import { statSync } from 'node:fs'
import { dirname } from 'node:path/posix'
import { TesseraError } from '../../errors.ts'
import { importFile } from '../../io/index.ts'
import type { ImportFormat } from '../../io/index.ts'
import type { Command } from '../command.ts'
import { DATA_DIR_OPTIONS, err, out, STORE_HELP, UsageError } from '../command.ts'
import { intOption } from '../format.ts'
import { progressBar } from '../progress.ts'
import { openHome } from '../target.ts'

/** Skipped rows named on stderr when no --report file takes them. */
const SHOWN_PROBLEMS = 5

/** --format's names, as the help lists them, and the library's format each stands for. */
const FORMATS: Readonly<Record<string, ImportFormat>> = Object.freeze({
  csv: 'csv', tsv: 'tsv', json: 'json', jsonl: 'jsonl', parquet: 'parquet', folder: 'media', media: 'media',
})

const HELP = `Streams the file: CSV/TSV, JSON (an array), JSONL, Parquet, or a folder of media files (one row per file, with
its path). A missing table is created from the file's inferred types (--type overrides one column). A bad row fails
the whole import and nothing stays written, unless --skip-bad-rows writes them to --report instead.

options:
  --format F         csv|tsv|json|jsonl|parquet|folder (default: from the file name; folder, also spelt media:
                     a folder of media files, the default for a folder)
  --type COL:TYPE    a column's type when creating the table, e.g. photo:image, at:timestamp (repeatable)
  --primary-key C    the primary key column(s) of a new table, comma-separated
  --skip-bad-rows    skip rows that do not fit, listing them in --report FILE
  --glob PATTERN     which files of a folder, e.g. '**/*.jpg'
  --batch-size N     rows per staged batch (default 10000; the whole import is one version)
  --sample-size N    records read to infer a new table's columns and types (default 1000)
  -p, --parents      create the table's dirs when missing
  -d, --home DIR     the data dir (not open in another process: import into a running server with
                     POST /api/v1/tables/{path}/-/import)
${STORE_HELP}

examples:
  tessera import people.csv app/people --primary-key id -p
  tessera import ./photos app/photos --glob '**/*.jpg'
  tessera import big.csv app/events --skip-bad-rows --report bad.jsonl`

export const importCommand: Command = {
  name: 'import',
  summary: 'import a CSV/TSV/JSON/JSONL/Parquet file or a folder of media files into a table (streamed)',
  maxArguments: 2,
  usage: 'tessera import FILE|FOLDER TABLE [--format csv] [--type col:type ...] [--primary-key id] [--skip-bad-rows --report bad.jsonl] [--glob "**/*.jpg"] [-p] [--home DIR]',
  help: HELP,
  options: {
    ...DATA_DIR_OPTIONS, format: { type: 'string' }, type: { type: 'string', multiple: true }, 'primary-key': { type: 'string' },
    'skip-bad-rows': { type: 'boolean' }, report: { type: 'string' }, glob: { type: 'string' }, 'batch-size': { type: 'string' }, 'sample-size': { type: 'string' }, parents: { type: 'boolean', short: 'p' },
  },
  async run(values, positionals) {
    const [file, table] = positionals
    if (!file || !table) throw new UsageError('give the file (or folder) and the table to import into')
    // Checked before the data dir opens, as wrong usage (exit 2): an unknown name used to import the file as CSV.
    const format = values.format === undefined ? undefined : String(values.format)
    if (format !== undefined && !Object.hasOwn(FORMATS, format)) {
      throw new UsageError(`unknown --format '${format}'; use one of ${Object.keys(FORMATS).join(', ')} (folder and media: a folder of media files)`)
    }
    const schema: Record<string, string> = {}
    for (const t of (values.type as string[] | undefined) ?? []) {
      const i = t.indexOf(':')
      if (i <= 0 || t.slice(i + 1).trim() === '') throw new UsageError(`--type takes column:type, got '${t}'`)
      const column = t.slice(0, i)
      if (Object.hasOwn(schema, column)) throw new UsageError(`--type gives column '${column}' a type twice; give it once`)
      schema[column] = t.slice(i + 1)
    }
    const primaryKey = values['primary-key'] === undefined ? undefined : String(values['primary-key']).split(',').map((k) => k.trim())
    if (primaryKey?.some((k) => k === '')) throw new UsageError(`--primary-key takes column names, comma-separated, got '${String(values['primary-key'])}'`)
    if (values.report !== undefined && !values['skip-bad-rows']) {
      throw new UsageError('--report lists the rows --skip-bad-rows skips: pass both (without --skip-bad-rows a bad row fails the import and nothing is written)')
    }
    let totalBytes: number | undefined
    try {
      const st = statSync(file)
      // A .gz file's size on disk is not the size of the text it holds, which progress counts.
      totalBytes = st.isFile() && !/\.gz$/i.test(file) ? st.size : undefined
    } catch { /* importFile reports it */ }
    const batchSize = intOption('--batch-size', values['batch-size'] as string | undefined, 1, 100_000)
    const sampleSize = intOption('--sample-size', values['sample-size'] as string | undefined, 1, 1_000_000)
    const db = await openHome(values, 'tessera import')
    const bar = progressBar(`import ${file} → ${table}`)
    try {
      const parent = dirname(table.replace(/:\d+$/, ''))
      if (values.parents && parent !== '.') await db.createDir(parent, { parents: true, ifExists: 'ignore' })
      const r = await importFile(db, table, file, {
        ...(format !== undefined ? { format: FORMATS[format]! } : {}),
        ...(Object.keys(schema).length ? { schema, strictSchema: true } : {}),
        ...(primaryKey ? { primaryKey } : {}),
        ...(values['skip-bad-rows'] ? { onBadRow: 'skip' as const } : {}),
        ...(values.report ? { reportFile: String(values.report) } : {}),
        ...(values.glob ? { glob: String(values.glob) } : {}),
        ...(batchSize !== undefined ? { batchSize } : {}),
        ...(sampleSize !== undefined ? { sampleSize } : {}),
        onProgress: (p) => bar.update(`${p.rowsInserted} rows${p.rowsSkipped ? `, ${p.rowsSkipped} skipped` : ''}`, totalBytes ? Math.min(1, p.bytesRead / totalBytes) : undefined),
      })
      bar.done(`${r.rowsInserted} rows imported${r.rowsSkipped ? `, ${r.rowsSkipped} skipped${r.reportFile ? ` (see ${r.reportFile})` : ''}` : ''}${r.created ? ` into new table (${Object.entries(r.schema).map(([k, t]) => `${k} ${t}`).join(', ')})` : ''}`)
      // Without --report, why rows were skipped would be said nowhere: the first few go to stderr.
      if (r.rowsSkipped > 0 && !r.reportFile) {
        for (const p of r.problems.slice(0, SHOWN_PROBLEMS)) err(`  skipped ${p.line !== undefined ? `line ${p.line}` : `row ${p.row ?? '?'}`}${p.column ? `, column '${p.column}'` : ''}: ${p.error}`)
        if (r.rowsSkipped > SHOWN_PROBLEMS) err(`  … ${r.rowsSkipped - SHOWN_PROBLEMS} more; --report FILE lists every skipped row`)
      }
      out(JSON.stringify({ table: r.table, rowsInserted: r.rowsInserted, rowsSkipped: r.rowsSkipped, created: r.created }))
      return 0
    } catch (e) {
      if (e instanceof TesseraError && e.details?.schema === true && typeof e.details.column === 'string') {
        throw new TesseraError(e.code, `--type ${e.details.column}:${schema[e.details.column]}: ${e.message}`, e.details)
      }
      if (e instanceof TesseraError && e.code === 'DIR_NOT_FOUND') throw new TesseraError(e.code, `${e.message.replace(/; create it first or pass parents: true$/, '')}: pass --parents (-p) to create it, or 'tessera mkdir'`)
      throw e
    } finally {
      await db.close()
    }
  },
}
