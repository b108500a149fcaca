import type postgres from 'postgres'

// Values come back exactly as the PGlite store returns them, so the layers above never see which store is below:
// int8 is a number when it fits (a bigint otherwise), date stays 'YYYY-MM-DD', bytea is a plain Uint8Array, and a
// string given for a json/jsonb parameter is sent as is (it is already JSON text).

const INT8 = 20
const JSON_OID = 114
const JSONB = 3802
const BYTEA = 17
const DATE = 1082

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
} satisfies Record<string, postgres.PostgresType>
