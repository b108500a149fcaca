import type { TableMd } from '../catalog/index.ts'
import type { MediaKind } from '../types/index.ts'
import { isMedia, parseType } from '../types/index.ts'
import type { MediaEnv } from './env.ts'
import { validateMediaValue } from './validate.ts'

// The row-level pass the catalog runs after schema validation and before writing: every media cell becomes its
// canonical reference, and with media_validation 'on_write' its file is decoded. Runs outside any transaction.

const PARALLEL = 8

export async function validateMediaRows<R extends Record<string, unknown>>(md: TableMd, table: string, rows: readonly R[], env: MediaEnv): Promise<R[]> {
  const r = await checkMediaRows(md, table, rows, env, false)
  return r.rows
}

/** A media cell that failed its check: stored as null with this error (insert with onError: 'ignore'). */
export interface MediaCellError {
  readonly errortype: string
  readonly errormsg: string
}

/**
 * Like validateMediaRows, but a cell that fails in a column able to store per-cell errors (cellErrors) becomes null
 * plus its error instead of failing the batch, as Pixeltable's insert(on_error='ignore') does. Other failures
 * (a column without error storage) still fail the batch.
 */
export async function validateMediaRowsIgnoringErrors<R extends Record<string, unknown>>(md: TableMd, table: string, rows: readonly R[], env: MediaEnv): Promise<{ rows: R[]; errors: (Record<string, MediaCellError> | undefined)[] }> {
  return checkMediaRows(md, table, rows, env, true)
}

async function checkMediaRows<R extends Record<string, unknown>>(md: TableMd, table: string, rows: readonly R[], env: MediaEnv, ignore: boolean): Promise<{ rows: R[]; errors: (Record<string, MediaCellError> | undefined)[] }> {
  const errors: (Record<string, MediaCellError> | undefined)[] = new Array(rows.length).fill(undefined)
  const cols = md.columns.filter((c) => !c.computed && isMedia(parseType(c.type)))
  if (cols.length === 0) return { rows: [...rows], errors }
  const out = rows.map((r) => ({ ...r }))
  const jobs: (() => Promise<void>)[] = []
  out.forEach((row, i) => {
    for (const c of cols) {
      const value = row[c.name]
      if (value === null || value === undefined) continue
      const mode = c.mediaValidation ?? md.mediaValidation ?? 'on_write'
      jobs.push(async () => {
        try {
          ;(row as Record<string, unknown>)[c.name] = await validateMediaValue(parseType(c.type).kind as MediaKind, value, { env, mode, row: i, column: c.name, table })
        } catch (e) {
          // Only a bad file is stored as an error; a refused path or URL (access rules) still fails the insert.
          const code = (e as { code?: string }).code
          if (!ignore || !c.cellErrors || (code !== 'INVALID_MEDIA' && code !== 'MEDIA_NOT_FOUND')) throw e
          ;(row as Record<string, unknown>)[c.name] = null
          errors[i] = { ...errors[i], [c.name]: { errortype: code, errormsg: (e as Error).message } }
        }
      })
    }
  })
  // Report the first failing row in row order, whatever order the parallel checks finish in.
  const results = await runLimited(jobs, PARALLEL)
  const firstError = results.find((r) => r !== undefined)
  if (firstError) throw firstError
  return { rows: out, errors }
}

async function runLimited(jobs: readonly (() => Promise<void>)[], limit: number): Promise<unknown[]> {
  const errors: unknown[] = new Array(jobs.length).fill(undefined)
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++
      try {
        await jobs[i]!()
      } catch (e) {
        errors[i] = e
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker))
  return errors
}
