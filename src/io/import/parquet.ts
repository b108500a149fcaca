import { open } from 'node:fs/promises'
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet'
import type { AsyncBuffer, FileMetaData, SchemaTree } from 'hyparquet'
import { invalid } from '../../errors.ts'
import type { ByteInput } from './bytes.ts'
import { spoolToTempFile } from './spool.ts'
import type { RecordSource, SourceRecord } from './source.ts'

// Parquet one row group at a time (a row group is the unit Parquet compresses, so it is the smallest read that
// makes sense); the footer is read first, so a truncated file fails before anything is written. Column types come
// from the 'tessera.schema' key Tessera's own export writes, else from the Parquet schema.

export const TESSERA_SCHEMA_KEY = 'tessera.schema'

export interface ParquetInput {
  readonly name: string
  readonly buffer: AsyncBuffer
  /** Called when the import is done (removes a spooled temp file). */
  close(): Promise<void>
}

export async function parquetFile(path: string): Promise<ParquetInput> {
  const fh = await open(path, 'r')
  const { size } = await fh.stat()
  return {
    name: path,
    buffer: {
      byteLength: size,
      async slice(start: number, end?: number): Promise<ArrayBuffer> {
        const stop = Math.min(end ?? size, size)
        const buf = new Uint8Array(Math.max(0, stop - start))
        let off = 0
        while (off < buf.length) {
          const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off)
          if (bytesRead === 0) break
          off += bytesRead
        }
        return buf.buffer
      },
    },
    close: () => fh.close(),
  }
}

/** Parquet needs random access: a streamed body is spooled to a temp file first (memory stays bounded). */
export async function parquetBody(input: ByteInput, bytes?: Uint8Array): Promise<ParquetInput> {
  if (bytes) {
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    return { name: input.name, buffer: { byteLength: buf.byteLength, slice: (s: number, e?: number) => buf.slice(s, e) }, close: async () => undefined }
  }
  const tmp = await spoolToTempFile(input.chunks(), '.parquet')
  try {
    const file = await parquetFile(tmp.path)
    return { name: input.name, buffer: file.buffer, close: async () => { await file.close(); await tmp.remove() } }
  } catch (e) {
    await tmp.remove()
    throw e
  }
}

export async function parquetSource(input: ParquetInput): Promise<RecordSource> {
  let metadata: FileMetaData
  try {
    metadata = await parquetMetadataAsync(input.buffer)
  } catch (e) {
    throw invalid('INVALID_ARGUMENT', `${input.name}: not a readable Parquet file (${(e as Error).message}); is it truncated?`, { file: input.name })
  }
  const tree = parquetSchema(metadata)
  const columns = tree.children.map((c) => c.element.name)
  // Rows are read as objects keyed by column name, so a second column of the same name would overwrite the first
  // in every row: refused, as a CSV header naming a column twice is.
  const twice = columns.find((c, i) => columns.indexOf(c) !== i)
  if (twice !== undefined) throw invalid('INVALID_ARGUMENT', `${input.name}: column '${twice}' appears twice in the Parquet schema; nothing was imported`, { file: input.name, column: twice })
  const declared = metadata.key_value_metadata?.find((kv) => kv.key === TESSERA_SCHEMA_KEY)?.value
  let types: Record<string, string> | undefined
  if (declared) {
    try {
      types = JSON.parse(declared) as Record<string, string>
    } catch {
      types = undefined
    }
  }
  types ??= Object.fromEntries(tree.children.map((c) => [c.element.name, parquetType(c)]))
  let done = 0
  const total = Number(metadata.num_rows)

  async function* batches(): AsyncGenerator<SourceRecord[]> {
    let rowStart = 0
    for (const [g, rg] of metadata.row_groups.entries()) {
      const rowEnd = rowStart + Number(rg.num_rows)
      let rows: Record<string, unknown>[]
      try {
        rows = await parquetReadObjects({ file: input.buffer, metadata, rowStart, rowEnd, utf8: false })
      } catch (e) {
        throw invalid('INVALID_ARGUMENT', `${input.name}, row group ${g} (rows ${rowStart + 1}–${rowEnd}): cannot decode: ${(e as Error).message}`, { file: input.name, row: rowStart + 1 })
      }
      const start = rowStart
      done = rowEnd
      rowStart = rowEnd
      yield rows.map((values, i) => ({ loc: start + i + 1, values }))
    }
  }

  // Progress in bytes is approximated by rows, since row groups are read by byte range.
  const size = input.buffer.byteLength
  return { name: input.name, unit: 'row', text: false, columns, types, batches: batches(), bytesRead: () => (total ? Math.round((done / total) * size) : size), totalBytes: size }
}

/** The Tessera column type for a top-level Parquet column. */
export function parquetType(node: SchemaTree): string {
  const e = node.element
  const opt = e.repetition_type === 'REQUIRED' ? '' : '?'
  const ct = e.converted_type
  const lt = e.logical_type?.type
  if (node.children.length > 0) {
    if (ct === 'LIST' || lt === 'LIST') {
      const leaf = listLeaf(node)
      const dtype = leaf && leafDtype(leaf)
      if (dtype) return `array<${dtype}>${opt}`
    }
    return `json${opt}`
  }
  // Logical types hyparquet decodes to numbers whatever bytes hold them: a half float (2 fixed bytes) and a decimal
  // (in fixed or variable bytes too) arrive as numbers, which a binary column would refuse.
  if (lt === 'FLOAT16' || ct === 'DECIMAL' || lt === 'DECIMAL') return `float${opt}`
  switch (e.type) {
    case 'BOOLEAN': return `bool${opt}`
    case 'INT32': case 'INT64':
      if (ct === 'DATE' || lt === 'DATE') return `date${opt}`
      if (ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS' || lt === 'TIMESTAMP') return `timestamp${opt}`
      return `int${opt}`
    case 'INT96': return `timestamp${opt}`
    case 'FLOAT': case 'DOUBLE': return `float${opt}`
    case 'BYTE_ARRAY':
      if (ct === 'JSON' || lt === 'JSON') return `json${opt}`
      if (ct === 'UTF8' || ct === 'ENUM' || lt === 'STRING' || lt === 'ENUM') return `string${opt}`
      return `binary${opt}`
    case 'FIXED_LEN_BYTE_ARRAY':
      if (lt === 'UUID') return `uuid${opt}`
      return `binary${opt}`
    default: return `json${opt}`
  }
}

function listLeaf(node: SchemaTree): SchemaTree | undefined {
  let n = node
  while (n.children.length === 1) n = n.children[0]!
  return n.children.length === 0 ? n : undefined
}

function leafDtype(leaf: SchemaTree): string | undefined {
  switch (leaf.element.type) {
    case 'FLOAT': return 'float32'
    case 'DOUBLE': return 'float64'
    case 'INT32': return leaf.element.converted_type ? undefined : 'int32'
    case 'INT64': return leaf.element.converted_type ? undefined : 'int64'
    case 'BOOLEAN': return 'bool'
    // A half float is exact as a float32 (hyparquet decodes it to a number).
    case 'FIXED_LEN_BYTE_ARRAY': return leaf.element.logical_type?.type === 'FLOAT16' ? 'float32' : undefined
    default: return undefined
  }
}
