import type { TableMd } from '../catalog/index.ts'
import type { MediaKind } from '../types/index.ts'
import { isMedia, parseType } from '../types/index.ts'
import type { MediaEnv } from './env.ts'
import { currentMediaAccess } from './access.ts'
import type { StoreRefGate } from './access.ts'
import { isUpload, storeRefOf, unheldRefError, unheldRefs } from './ref-gate.ts'
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
  const cells: Cell[] = []
  out.forEach((row, i) => {
    for (const c of cols) {
      const value = row[c.name]
      if (value === null || value === undefined) continue
      const mode = c.mediaValidation ?? md.mediaValidation ?? 'on_write'
      const check = async () => {
        try {
          ;(row as Record<string, unknown>)[c.name] = await validateMediaValue(parseType(c.type).kind as MediaKind, value, { env, mode, row: i, column: c.name, table })
        } catch (e) {
          // Only a bad file is stored as an error; a refused path or URL (access rules) still fails the insert.
          const code = (e as { code?: string }).code
          if (!ignore || !c.cellErrors || (code !== 'INVALID_MEDIA' && code !== 'MEDIA_NOT_FOUND')) throw e
          ;(row as Record<string, unknown>)[c.name] = null
          errors[i] = { ...errors[i], [c.name]: { errortype: code, errormsg: (e as Error).message } }
        }
      }
      cells.push({ row: i, column: c.name, value, check, result: () => (row as Record<string, unknown>)[c.name] })
    }
  })
  const access = currentMediaAccess()
  const results = access?.storeRefs ? await checkGated(cells, access.storeRefs, access.who) : await runLimited(cells.map((x) => x.check), PARALLEL)
  // Report the first failing row in row order, whatever order the parallel checks finish in.
  const firstError = results.find((r) => r !== undefined)
  if (firstError) throw firstError
  return { rows: out, errors }
}

/** One media cell to check, in row order. */
interface Cell {
  readonly row: number
  readonly column: string
  readonly value: unknown
  readonly check: () => Promise<void>
  /** The cell's value after its check (the stored ref of an upload). */
  readonly result: () => unknown
}

/**
 * A restricted caller's cells (ref-gate.ts): uploads and other values first, so the refs they store count as this
 * request's; then the store refs, looked up together (one query per batch), refused unless held or uploaded. Errors
 * by cell, in row order.
 */
async function checkGated(cells: readonly Cell[], gate: StoreRefGate, who: string): Promise<unknown[]> {
  const refs = cells.map((x) => storeRefOf(x.value))
  const results: unknown[] = new Array(cells.length).fill(undefined)
  const others = cells.flatMap((_, i) => (refs[i] === undefined ? [i] : []))
  ;(await runLimited(others.map((i) => cells[i]!.check), PARALLEL)).forEach((e, k) => { results[others[k]!] = e })
  others.forEach((i) => {
    const stored = cells[i]!.result()
    if (results[i] === undefined && isUpload(cells[i]!.value) && typeof stored === 'string') gate.cleared.add(stored)
  })
  const named = cells.flatMap((_, i) => (refs[i] === undefined ? [] : [i]))
  if (named.length === 0) return results
  const refused = await unheldRefs(gate, named.map((i) => refs[i]!))
  const allowed = named.filter((i) => !refused.has(refs[i]!))
  for (const i of named) if (refused.has(refs[i]!)) results[i] = unheldRefError(refs[i]!, who, cells[i]!.row, cells[i]!.column)
  ;(await runLimited(allowed.map((i) => cells[i]!.check), PARALLEL)).forEach((e, k) => { results[allowed[k]!] = e })
  return results
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
