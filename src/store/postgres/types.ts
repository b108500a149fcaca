import type postgres from 'postgres'
import { pgTimestamp } from '../../types/index.ts'

// Values come back exactly as the PGlite store returns them, so the layers above never see which store is below:
// int8 is a number when it fits (a bigint otherwise), date stays 'YYYY-MM-DD', bytea is a plain Uint8Array, and a
// string given for a json/jsonb parameter is sent as is (it is already JSON text). A timestamp is read exactly
// (pgTimestamp): the package's own parser, `new Date(text)`, read the year of '0050-06-15 12:00:00+00' as 1950.

const INT8 = 20
const JSON_OID = 114
const JSONB = 3802
const BYTEA = 17
const DATE = 1082
const TIMESTAMP = 1114
const TIMESTAMPTZ = 1184

export const PG_TYPES = {
  bigint: {
    to: INT8,
    from: [INT8],
    serialize: (x: bigint | number) => x.toString(),
    parse: (x: string): number | bigint => {
      const n = BigInt(x)
      return n < Number.MIN_SAFE_INTEGER || n > Number.MAX_SAFE_INTEGER ? n : Number(n)
    },
  },
  json: {
    to: JSON_OID,
    from: [JSON_OID, JSONB],
    serialize: (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))),
    parse: (x: string): unknown => JSON.parse(x),
  },
  jsonb: {
    to: JSONB,
    from: [JSONB],
    serialize: (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))),
    parse: (x: string): unknown => JSON.parse(x),
  },
  bytea: {
    to: BYTEA,
    from: [BYTEA],
    serialize: (x: Uint8Array) => `\\x${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')}`,
    parse: (x: string): Uint8Array => new Uint8Array(Buffer.from(x.slice(2), 'hex')),
  },
  dateText: {
    to: DATE,
    from: [DATE],
    serialize: (x: string | Date) => (x instanceof Date ? x.toISOString().slice(0, 10) : String(x)),
    parse: (x: string): string => x,
  },
  timestamp: {
    to: TIMESTAMPTZ,
    from: [TIMESTAMPTZ, TIMESTAMP],
    // A Date as ISO text, which Postgres reads exactly (the package's serializer did the same); a text is sent as is,
    // not through `new Date(text)`, which would read it with the same legacy reader.
    serialize: (x: Date | string | number) => (x instanceof Date ? x.toISOString() : typeof x === 'number' ? new Date(x).toISOString() : String(x)),
    parse: pgTimestamp,
  },
} satisfies Record<string, postgres.PostgresType>
