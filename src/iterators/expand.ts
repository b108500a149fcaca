import { TesseraError } from '../errors.ts'
import type { IteratorDef } from './registry.ts'

// A view's iterator expansion (src/catalog/views.ts syncs views with it): each entering base row becomes its output
// rows (base values + pos + outputs), handed over in batches of at most `batchRows`, so the caller can compute and
// write batch by batch, and iterators run one base row at a time (a video's frames are on disk or unstored, never
// held). A failure names the base row and the view.

export type ExpandedRow = Record<string, unknown>

export interface ExpandOptions {
  /** Name of the input value in each base row. */
  readonly input: string
  readonly args: Readonly<Record<string, unknown>>
  /** Rows per batch (default 1000). */
  readonly batchRows?: number
  /** Names the row in errors (the base row id). */
  readonly rowId: (row: ExpandedRow) => unknown
  /** The view and iterator, for errors. */
  readonly view: string
  readonly iterator: string
}

export async function* expandInBatches(it: Pick<IteratorDef<Record<string, unknown>>, 'run'>, rows: Iterable<ExpandedRow> | AsyncIterable<ExpandedRow>, o: ExpandOptions): AsyncGenerator<ExpandedRow[]> {
  const size = Math.max(1, o.batchRows ?? 1000)
  let batch: ExpandedRow[] = []
  for await (const row of rows) {
    const input = row[o.input]
    if (input === null || input === undefined) continue
    let pos = 0
    try {
      for await (const part of it.run(input, o.args)) {
        batch.push({ ...row, ...part, pos: pos++ })
        if (batch.length >= size) {
          yield batch
          batch = []
        }
      }
    } catch (e) {
      throw new TesseraError('COMPUTATION_FAILED', `iterator '${o.iterator}' failed on base row ${o.rowId(row)} of view '${o.view}': ${(e as Error).message}`, { view: o.view }, { cause: e })
    }
  }
  if (batch.length > 0) yield batch
}
