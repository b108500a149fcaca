import type { PGliteAssets } from './assets.ts'

// Messages between the serving thread and the store worker (worker.ts). Plain data only: everything crosses the
// thread boundary by structured clone.

export interface WorkerOpenOptions {
  /** A directory on disk, or undefined for an in-memory database. */
  readonly dataDir?: string
  /** A dumped data dir to start from (tests, restores, the binary's ready template). */
  readonly loadDataDir?: Blob
  /** PGlite's run-time files, as the entry point passed them (paths cross everywhere; see assets.ts). */
  readonly assets?: PGliteAssets
}

export type WorkerRequest =
  /** Start compiling the engine before 'open' comes (prestartStoreWorker); never answered: errors surface at open. */
  | { readonly id: number; readonly op: 'prepare'; readonly assets: PGliteAssets }
  | { readonly id: number; readonly op: 'open'; readonly options: WorkerOpenOptions }
  | { readonly id: number; readonly op: 'query'; readonly sql: string; readonly params?: readonly unknown[]; readonly prepare?: boolean }
  | { readonly id: number; readonly op: 'exec'; readonly sql: string }
  /**
   * COPY … FROM '/dev/blob': `csv` is the payload PGlite reads as the blob (its buffer is transferred, not copied):
   * UTF-8 CSV, or COPY's binary format when `binary`.
   */
  | { readonly id: number; readonly op: 'copy'; readonly target: string; readonly csv: Uint8Array; readonly binary?: boolean }
  /** COPY (select) TO '/dev/blob' in the binary format: answered with the payload's bytes (transferred, not copied). */
  | { readonly id: number; readonly op: 'copyOut'; readonly select: string }
  | { readonly id: number; readonly op: 'dump' }
  | { readonly id: number; readonly op: 'close' }

/** A Postgres error as data: its message and the fields Tessera reads (code, detail, ...). */
export interface SerializedError {
  readonly message: string
  readonly name?: string
  readonly fields: Record<string, unknown>
}

export type WorkerResponse =
  /** `busyMs`: how long the statement held the store, for step sizing and metrics. */
  | { readonly id: number; readonly ok: true; readonly result: unknown; readonly busyMs: number }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError; readonly busyMs: number }

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return serializeThrownValue(e)
  const fields: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined || typeof v === 'function' || (typeof v === 'object' && v !== null && !Array.isArray(v))) continue
    fields[k] = v
  }
  return { message: e.message, name: e.name, fields }
}

/**
 * Something thrown that is not an Error: the WebAssembly engine throws its own objects (an `ExitStatus` with a message
 * and status when Postgres exits). Their message and name are kept; `String()` of them would say "[object Object]".
 */
function serializeThrownValue(e: unknown): SerializedError {
  if (typeof e !== 'object' || e === null) return { message: String(e), fields: {} }
  const o = e as Record<string, unknown>
  const fields: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (k !== 'message' && k !== 'name' && (typeof v === 'string' || typeof v === 'number')) fields[k] = v
  const name = typeof o.name === 'string' ? o.name : undefined
  let message = typeof o.message === 'string' ? o.message : undefined
  if (message === undefined) {
    try {
      message = `a non-Error value was thrown: ${JSON.stringify(e).slice(0, 500)}`
    } catch {
      message = `a non-Error value was thrown (${Object.prototype.toString.call(e)})`
    }
  }
  return { message, ...(name ? { name } : {}), fields }
}

export function deserializeError(s: SerializedError): Error {
  const e = new Error(s.message)
  if (s.name) e.name = s.name
  Object.assign(e, s.fields)
  return e
}
