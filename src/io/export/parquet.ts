import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import type { SchemaElement } from 'hyparquet'
import type { ColumnType } from '../../types/index.ts'
import { formatType } from '../../types/index.ts'
import { TESSERA_SCHEMA_KEY } from '../import/parquet.ts'
import type { Sink } from './sink.ts'

// Parquet through hyparquet-writer's incremental ParquetWriter: one row group per batch, each flushed to the sink
// before the next batch is read, so memory stays bounded by the row-group size. Types map to Parquet's own
// (INT64, DOUBLE, DATE, TIMESTAMP, JSON, LIST); the exact Tessera types ride along in the 'tessera.schema' key so an
// import of the file restores them (uuid, media, fixed-shape arrays).

const ARRAY_LEAF: Record<string, Pick<SchemaElement, 'type' | 'converted_type'>> = {
  float32: { type: 'FLOAT' }, float64: { type: 'DOUBLE' }, int8: { type: 'INT32', converted_type: 'INT_8' },
  int16: { type: 'INT32', converted_type: 'INT_16' }, int32: { type: 'INT32' }, int64: { type: 'INT64' },
  uint8: { type: 'INT32', converted_type: 'UINT_8' }, bool: { type: 'BOOLEAN' },
}

function elements(name: string, t: ColumnType): SchemaElement[] {
  const repetition_type = t.nullable ? 'OPTIONAL' : 'REQUIRED'
  switch (t.kind) {
    case 'int': return [{ name, type: 'INT64', repetition_type }]
    case 'float': return [{ name, type: 'DOUBLE', repetition_type }]
    case 'bool': return [{ name, type: 'BOOLEAN', repetition_type }]
    case 'timestamp': return [{ name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type }]
    case 'date': return [{ name, type: 'INT32', converted_type: 'DATE', repetition_type }]
    case 'json': return [{ name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type }]
    case 'binary': return [{ name, type: 'BYTE_ARRAY', repetition_type }]
    case 'array': {
      const dims = t.shape?.length
      if (!dims) return [{ name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type }]
      const out: SchemaElement[] = []
      for (let d = 0; d < dims; d++) {
        out.push({ name: d === 0 ? name : 'element', repetition_type: d === 0 ? repetition_type : 'REQUIRED', converted_type: 'LIST', num_children: 1 })
        out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 })
      }
      out.push({ name: 'element', repetition_type: 'REQUIRED', ...ARRAY_LEAF[t.dtype ?? 'float32']! })
      return out
    }
    default: return [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type }]
  }
}

function cell(t: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (t.kind === 'int') return BigInt(v as number)
  if (t.kind === 'date') return new Date(`${v as string}T00:00:00Z`)
  if (t.kind === 'timestamp' && !(v instanceof Date)) return new Date(v as string)
  if (t.kind === 'array') {
    const plain = toNested(v)
    return t.shape?.length ? (t.dtype === 'int64' ? mapLeaves(plain, (x) => BigInt(x as number)) : plain) : plain
  }
  return v
}

function toNested(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>)
  return Array.isArray(v) ? v.map(toNested) : v
}

function mapLeaves(v: unknown, f: (x: unknown) => unknown): unknown {
  return Array.isArray(v) ? v.map((e) => mapLeaves(e, f)) : f(v)
}

export class ParquetSinkWriter {
  readonly #sink: Sink
  readonly #columns: { name: string; type: ColumnType }[]
  readonly #writer: ByteWriter
  readonly #pq: ParquetWriter

  constructor(sink: Sink, columns: { name: string; type: ColumnType }[]) {
    this.#sink = sink
    this.#columns = columns
    const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }, ...columns.flatMap((c) => elements(c.name, c.type))]
    this.#writer = new ByteWriter(1 << 20)
    const writer = this.#writer
    // flush() runs after each row group: hand the encoded bytes to the sink and reuse the buffer.
    ;(writer as ByteWriter & { flush(): Promise<void> }).flush = async () => {
      if (writer.index === 0) return
      const bytes = new Uint8Array(writer.buffer.slice(0, writer.index))
      writer.index = 0
      await sink.write(bytes)
    }
    this.#pq = new ParquetWriter({
      writer,
      schema: schema as ConstructorParameters<typeof ParquetWriter>[0]['schema'],
      kvMetadata: [{ key: TESSERA_SCHEMA_KEY, value: JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, formatType(c.type)]))) }],
      createdBy: 'tessera',
    })
  }

  async writeRows(rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return
    const columnData = this.#columns.map((c) => ({ name: c.name, data: rows.map((r) => cell(c.type, r[c.name])) }))
    await this.#pq.write({ columnData, rowGroupSize: rows.length })
  }

  async finish(): Promise<void> {
    await this.#pq.finish()
    const w = this.#writer
    if (w.index > 0) await this.#sink.write(new Uint8Array(w.buffer.slice(0, w.index)))
    w.index = 0
  }
}
