import { parse, protocol } from '@electric-sql/pglite'
import type { PGlite } from '@electric-sql/pglite'
import type { QueryResult } from '../types.ts'
import { FLOAT4_ARRAY_OID, float4ArrayBinary } from './binary-params.ts'

// Named prepared statements on PGlite, through its extended-protocol entry (execProtocol). PGlite's own query()
// parses and plans every call under the unnamed statement, in six calls into wasm (parse, describe, bind, describe,
// execute, sync). Here a statement is parsed once under a name; each later call is one buffer of bind, describe,
// execute and sync, and Postgres keeps the plan (a generic one after its five custom plans). Measured on a 100k-row
// point lookup (BENCHMARKS.md, "Prepared, cached plans"): ~30 µs against ~150 µs through query().

const { serialize } = protocol

interface Statement {
  readonly name: string
  /** Parameter type OIDs, as Postgres described them: each value is serialized for its type, as query() does. */
  readonly paramTypes: readonly number[]
}

/** Statement names are unique in the process, so two sets on one connection (tests) never collide. */
let nextName = 1

/** Postgres errors that mean a kept statement no longer fits (its result type changed, or it is gone): prepare again. */
const STALE = new Set(['0A000', '26000'])

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * What follows every bind: describe the portal, execute it, sync. The same bytes for every call, so they are
 * serialized once (three serializer calls and their buffers less per read, on the worker's hot path).
 */
let runTail: Uint8Array | undefined
const tail = (): Uint8Array => (runTail ??= concat([serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]))

/** A bounded set of named statements on one PGlite connection, least recently used closed first. */
export class PreparedStatements {
  readonly #pg: PGlite
  readonly #max: number
  readonly #bySql = new Map<string, Statement>()

  constructor(pg: PGlite, max = 256) {
    this.#pg = pg
    this.#max = max
  }

  /** How many statements are kept (tests). */
  get size(): number {
    return this.#bySql.size
  }

  query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return this.#pg._runExclusiveQuery(async () => {
      try {
        // A kept statement runs without the extra await of preparing one (the hot path of every cached read).
        const kept = this.#kept(sql)
        return await this.#run<R>(kept ?? (await this.#statement(sql)), params)
      } catch (e) {
        if (!STALE.has((e as { code?: string }).code ?? '') || !this.#bySql.has(sql)) throw e
        // DDL changed what the statement returns: Postgres refuses the kept plan; forget it and prepare it afresh.
        await this.#close(sql)
        return this.#run<R>(await this.#statement(sql), params)
      }
    })
  }

  #kept(sql: string): Statement | undefined {
    const kept = this.#bySql.get(sql)
    if (kept) {
      // Most recently used last: Map keeps insertion order.
      this.#bySql.delete(sql)
      this.#bySql.set(sql, kept)
    }
    return kept
  }

  async #statement(sql: string): Promise<Statement> {
    const kept = this.#kept(sql)
    if (kept) return kept
    const name = `tessera_s${nextName++}`
    const r = await this.#pg.execProtocol(concat([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]))
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(r.messages) }
    this.#bySql.set(sql, statement)
    if (this.#bySql.size > this.#max) await this.#close(this.#bySql.keys().next().value!)
    return statement
  }

  async #run<R>(s: Statement, params: readonly unknown[]): Promise<QueryResult<R>> {
    const serializers = this.#pg.serializers
    const values = new Array<string | Uint8Array | null>(params.length)
    for (let i = 0; i < params.length; i++) {
      const v = params[i]
      const type = s.paramTypes[i]!
      if (v === null || v === undefined) {
        values[i] = null
        continue
      }
      // A float4[] (a search's query vector) goes in binary when that stores the same values (binary-params.ts).
      const binary = type === FLOAT4_ARRAY_OID ? float4ArrayBinary(v) : undefined
      const serializer = serializers[type]
      values[i] = binary ?? (serializer ? serializer(v) : String(v))
    }
    const r = await this.#pg.execProtocol(concat([serialize.bind({ statement: s.name, values }), tail()]))
    const result = parse.parseResults(r.messages, this.#pg.parsers)[0]
    return { rows: (result?.rows ?? []) as R[], affectedRows: result?.affectedRows ?? 0 }
  }

  async #close(sql: string): Promise<void> {
    const s = this.#bySql.get(sql)
    if (!s) return
    this.#bySql.delete(sql)
    await this.#pg.execProtocol(concat([serialize.close({ type: 'S', name: s.name }), serialize.sync()]))
  }
}
