import { PGlite, types } from '@electric-sql/pglite'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Extension } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import type { Driver, Queryable, QueryOptions, QueryResult, StoreCapabilities } from '../types.ts'
import { PreparedStatements } from './prepared.ts'
import { loadAssets } from './assets.ts'
import type { LoadedAssets, PGliteAssets } from './assets.ts'
import { pgTimestamp } from '../../types/index.ts'

// PGlite (Postgres in wasm) on the calling thread, on a data dir or in memory. Tessera runs it inside the store
// worker (worker.ts): a statement holds the thread that runs it, and that must never be the serving thread.
// PGlite takes no file lock of its own; the caller (Tessera.open) holds the data dir lock before calling open().

export type { PGliteAssets }

export interface PGliteOpenOptions {
  /** A directory on disk, or undefined for an in-memory database. */
  readonly dataDir?: string
  /** A dumped data dir (dumpDataDir) to start from: tests use it to skip initdb. */
  readonly loadDataDir?: Blob
  /** PGlite's run-time files as the entry point passes them (a single binary's); none: PGlite's own in node_modules. */
  readonly assets?: PGliteAssets
}

const DATE_OID = 1082
const TIMESTAMP_OID = 1114
const TIMESTAMPTZ_OID = 1184

function vectorExtension(assets: LoadedAssets): Extension {
  if (!assets.vectorBundlePath) return vector as Extension
  const bundlePath = new URL(`file://${assets.vectorBundlePath}`)
  return { name: 'vector', setup: async (_pg: unknown, emscriptenOpts: unknown) => ({ emscriptenOpts, bundlePath }) } as Extension
}

class PGliteQueryable implements Queryable {
  /** Named statements: only on the connection itself (a PGlite transaction object has no protocol entry). */
  constructor(protected readonly db: Pick<PGlite, 'query' | 'exec'>, protected readonly prepared?: PreparedStatements) {}

  async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    if (options?.prepare && this.prepared) return this.prepared.query<R>(sql, params)
    const r = await this.db.query<R>(sql, params as unknown[] | undefined)
    return { rows: r.rows, affectedRows: r.affectedRows ?? 0 }
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql)
  }

  async copyBinaryFrom(target: string, payload: Uint8Array): Promise<number> {
    const r = await this.db.query(`copy ${target} from '/dev/blob' with (format binary)`, [], { blob: new Blob([payload as BlobPart]) })
    return r.affectedRows ?? 0
  }

  async copyBinaryTo(select: string): Promise<Uint8Array> {
    const r = await this.db.query(`copy (${select}) to '/dev/blob' with (format binary)`)
    if (!r.blob) throw new Error('COPY TO returned no payload')
    return new Uint8Array(await r.blob.arrayBuffer())
  }
}

export class PGliteDirect extends PGliteQueryable implements Driver {
  readonly kind = 'pglite' as const
  readonly capabilities: StoreCapabilities = { vector: true }
  readonly #pg: PGlite

  /** `created`: this open ran initdb (a new data dir). */
  private constructor(pg: PGlite, readonly created: boolean) {
    super(pg, new PreparedStatements(pg))
    this.#pg = pg
  }

  static async open(options: PGliteOpenOptions = {}): Promise<PGliteDirect> {
    // initdb is compiled only when it will run: not for an existing database, nor one loaded from a dump.
    const needsInitdb = !options.loadDataDir && !(options.dataDir && existsSync(join(options.dataDir, 'PG_VERSION')))
    const assets = await loadAssets(options.assets, needsInitdb)
    const pg = await PGlite.create({
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      ...(assets.pgliteWasmModule ? { pgliteWasmModule: assets.pgliteWasmModule } : {}),
      ...(assets.initdbWasmModule ? { initdbWasmModule: assets.initdbWasmModule } : {}),
      ...(assets.fsBundle ? { fsBundle: assets.fsBundle } : {}),
      extensions: { vector: vectorExtension(assets) },
      // Dates stay 'YYYY-MM-DD' strings: a JS Date would shift them by the local time zone.
      // Timestamps are read exactly: PGlite's own parser is `new Date(text)`, whose legacy reader took the year of
      // '0050-06-15 12:00:00+00' as 1950 (years 1-99 read back shifted; the stored value was right).
      parsers: { [DATE_OID]: (s: string) => s, [TIMESTAMPTZ_OID]: pgTimestamp, [TIMESTAMP_OID]: pgTimestamp },
      // Postgres keeps finished WAL segments for reuse up to max_wal_size (1 GB by default): a data dir that saw many
      // updates kept ~130 MB of them, twice the data after compaction (BENCHMARKS.md). A smaller bound checkpoints
      // more often and recycles fewer segments.
      // On a data dir, new WAL segments are not filled with zeros: PGlite has no WAL writer or checkpointer process,
      // so the commit that begins a segment wrote its 16 MB of zeros itself, through the emulated file system, while
      // every reader waited (0.9-2.3 s at load 8-10, ~100 ms at load 4; off: at most 24-98 ms, same median commit;
      // BENCHMARKS.md, issue 15 `stall`). Zero-filling only reserves the file's disk space ahead of its writes (PGlite
      // runs with fsync off, so it buys no durability). In memory it stays on: there, off made every commit ~10 ms
      // (p50 0.3-0.5 ms with it), which tests with many short steps pay more than the rare long commit.
      // shared_buffers: 32 MB, not Postgres's 128 MB, all of which PGlite's WebAssembly memory holds resident from the
      // start (153 MB at open; 59 MB with 32 MB). Pages beyond it are read back from the data dir's files (the OS's
      // cache, or the in-memory file system, itself in memory): the insert and query benches at 100k showed no change
      // told apart from the noise, and a scan of a table bigger than a quarter of the buffers goes through a small
      // ring of them either way (BENCHMARKS.md, issue 16 `annmem`).
      postgresqlconf: ["max_wal_size = '64MB'", "min_wal_size = '32MB'", "shared_buffers = '32MB'", ...(options.dataDir ? ['wal_init_zero = off'] : [])],
    })
    await pg.exec('create extension if not exists vector')
    return new PGliteDirect(pg, needsInitdb)
  }

  // PGlite's transaction() holds its own mutex, so no other statement interleaves with an open transaction.
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#pg.transaction((tx) => fn(new PGliteQueryable(tx)))
  }

  /** COPY from a CSV payload, which PGlite reads as the file '/dev/blob'. */
  async copyFrom(target: string, csv: string | Uint8Array): Promise<number> {
    const r = await this.#pg.query(`copy ${target} from '/dev/blob' with (format csv)`, [], { blob: new Blob([csv as BlobPart]) })
    return r.affectedRows ?? 0
  }

  /** A tarball of the whole data dir (backups; test templates). */
  async dump(): Promise<Blob> {
    return this.#pg.dumpDataDir('gzip')
  }

  async close(): Promise<void> {
    if (!this.#pg.closed) await this.#pg.close()
  }
}

export { types as pgliteTypes }
