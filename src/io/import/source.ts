// What every import format produces: records with their place in the input (line for text formats, row for
// Parquet and folders), so errors and the skip report can point at the exact spot.

/** A record keyed by column name (JSON, Parquet, folders). */
export interface ValuesRecord {
  readonly loc: number
  readonly values: Record<string, unknown>
}

/** A record as its fields in `RecordSource.columns` order (CSV/TSV): no object keyed by name per record. */
export interface FieldsRecord {
  readonly loc: number
  readonly fields: readonly unknown[]
}

export type GoodRecord = ValuesRecord | FieldsRecord

/** A record the format itself could not read (a bad quote, a JSON line that does not parse). */
export interface BadRecord {
  readonly loc: number
  readonly error: string
  readonly raw?: string
}

export type SourceRecord = GoodRecord | BadRecord

export const isBad = (r: SourceRecord): r is BadRecord => 'error' in r

/** A good record keyed by column name (for sampling and reports); `columns`: the source's, for a fields record. */
export function valuesOf(r: GoodRecord, columns: readonly string[] | undefined): Record<string, unknown> {
  if ('values' in r) return r.values
  // No prototype: a header named __proto__ is then a key like the others (it would set the prototype of a {}).
  const values: Record<string, unknown> = Object.create(null)
  for (let i = 0; i < r.fields.length; i++) values[columns?.[i] ?? `column_${i + 1}`] = r.fields[i]
  return values
}

export interface RecordSource {
  /** The input's name in messages: a file path, or what the caller calls an upload. */
  readonly name: string
  /** 'line' for CSV/TSV/JSON(L), 'row' for Parquet and folders. */
  readonly unit: 'line' | 'row'
  /** Values are text (CSV/TSV cells) to parse per column type, rather than typed values. */
  readonly text: boolean
  /** Column names in file order, when the format declares them (CSV header, Parquet schema); may be known only after the first record. */
  readonly columns?: readonly string[]
  /** Column types the input itself declares (Parquet written by Tessera, media folders). */
  readonly types?: Readonly<Record<string, string>>
  /** Types decided from the sampled rows (a folder's path column is 'image' when every file is an image). */
  typesFor?(sample: readonly Record<string, unknown>[]): Record<string, string>
  /** The records in batches (a parsed chunk, a row group), so the import loop awaits once per batch, not per record. */
  readonly batches: AsyncIterable<readonly SourceRecord[]>
  /** Bytes consumed so far, and the total when known, for progress bars. */
  bytesRead(): number
  readonly totalBytes?: number
}

/** Groups a per-record source (a folder walk, which awaits a stat per file anyway) into batches of up to `size`. */
export async function* inBatches(records: AsyncIterable<SourceRecord>, size = 256): AsyncGenerator<SourceRecord[]> {
  let batch: SourceRecord[] = []
  for await (const r of records) {
    batch.push(r)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}
