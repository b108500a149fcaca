import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { alreadyExists, ConcurrencyError, invalid, notFound, OPTION_VALUES, TesseraError } from '../errors.ts'
import { createMediaEnv, MediaStore, openMediaStore, registerMediaEnv } from '../media/index.ts'
import type { MediaEnv } from '../media/index.ts'
import { readHolder, runtime } from '../runtime/index.ts'
import type { FileLock } from '../runtime/index.ts'
import { KeyedMutex, migrate, PGliteDriver, PostgresDriver } from '../store/index.ts'
import type { PGliteAssets, Driver, Queryable } from '../store/index.ts'
import { formatType, isMedia, parseType } from '../types/index.ts'
import { createDataTable, dropDataTable, heldStoreRefs, indexStatements } from './data-table/index.ts'
import { repairUncommittedWrites } from './data-table/index.ts'
import type { Repair } from './data-table/index.ts'
import * as dirs from './dirs.ts'
import type { ColumnMd, IfExists, IfNotExists, MediaValidation, TableKind, TableMd } from './metadata.ts'
import { checkName, parsePath } from './paths.ts'
import type { TableState } from './state.ts'
import { commitVersion, loadTableById, loadTableByPath, lockTableRow, mdAtVersion } from './state.ts'
import { sameMd } from './commit.ts'
import type { CatalogContext } from './table.ts'
import { refuseUnknownOptions, revertLatest, setRevertGuard, Table } from './table.ts'
import * as views from './views.ts'
import { checkIntegrity } from './check.ts'
import type { CheckProblem } from './check.ts'
import { fnNode, toNode, isQuery, viewBaseOf } from '../query/index.ts'
import type { Query, ExprLike } from '../query/index.ts'
import { currentEnv, resolveEnvPath } from './environments.ts'
import { ownColumns } from './computed.ts'
import { Jobs } from './jobs.ts'
import { collectMedia, compactDatabase, CompactionSchedule } from './compact.ts'
import type { CompactOptions, CompactReport } from './compact.ts'
import { openDestinations } from './destinations.ts'
import { assertRevertRetained, assertVersionRetained, effectivePolicy, storePolicy } from './retention.ts'
import type { EffectiveRetention, RetentionPolicy } from './retention.ts'
import type { GcOptions, GcReport } from '../media/index.ts'
import { attachVectorIndexes, detachVectorIndexes, provideIndexStatements, vectorIndexesAfterCommit, VECTOR_SESSION_SETTINGS } from '../index/index.ts'
import type { ProviderConfig } from '../ai/index.ts'
import { checkProviderConfigs } from '../ai/index.ts'
import { applySessionSettings, execContext } from './context.ts'
import { autoAnalyzeOf } from './auto-analyze.ts'
import { assertReplaceable, REPLACING_MARK, replacingPath, underUserPath } from './replace.ts'

/** Session settings every store connection of a database gets (catalog/context.ts). */
// The index layer's statements over the data tables are written in the data-table layer (it cannot import them).
provideIndexStatements(indexStatements)

const SESSION_SETTINGS: Readonly<Record<string, string>> = { ...VECTOR_SESSION_SETTINGS }

export interface OpenOptions {
  /** Data dir (default: $TESSERA_HOME, else ~/.tessera). Holds the database, media and the lock file. */
  readonly home?: string
  /**
   * PGlite's run-time files, decided by the entry point and handed to the store worker (the CLI passes a binary's
   * embedded ones as file paths: src/cli/target.ts). None: PGlite's own in node_modules.
   */
  readonly assets?: PGliteAssets
  /** Free-form description of this process for the lock file ('tessera serve'). */
  readonly command?: string
  /** Start a NEW data dir from a database dump (`tessera restore`); ignored when the dir already has a database. */
  readonly restoreFrom?: Blob
  /** Bound of the remote-media file cache <home>/cache in bytes (default 1 GiB, least recently used evicted). */
  readonly mediaCacheBytes?: number
  /**
   * A PostgreSQL server (postgres://user:pass@host:5432/db) instead of the embedded store: many Tessera processes,
   * on many machines, may open the same one. `home` then only holds the media cache (and media, unless mediaDir).
   */
  readonly database?: string
  /** Where uploaded media is stored (default <home>/media); with a server database, a path every process shares. */
  readonly mediaDir?: string
  /**
   * Where uploaded and computed media is stored, instead of mediaDir: 's3://bucket/prefix' (an S3-compatible bucket;
   * credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, endpoint from AWS_ENDPOINT_URL_S3 or
   * AWS_ENDPOINT_URL, region from AWS_REGION) or a local folder. Reads go through a file cache in <home>/cache-s3.
   */
  readonly mediaStore?: string
  /**
   * Environment namespace (default $TESSERA_ENV): with 'prod', 'app/docs' means 'prod_app/docs' in every call, as
   * `tessera apply` resolves a setup file's paths, so application code and its setup see the same tables.
   */
  readonly env?: string
  /**
   * This database's LLM provider settings (`{ openai: { baseUrl, apiKey } }`), over the process-wide ones
   * (`openai.configure()`, the environment): its computed columns and queries use them, another database in the same
   * process does not.
   */
  readonly providers?: Readonly<Record<string, ProviderConfig>>
}

export interface CreateTableOptions {
  readonly primaryKey?: string | readonly string[]
  readonly ifExists?: IfExists
  readonly comment?: string
  readonly mediaValidation?: MediaValidation
}

setRevertGuard(async (tx, state, prev) => {
  await views.assertBaseRevertable(tx, state, prev)
  await assertRevertRetained(tx, state)
})

/** A view's base whose schema changed between building the view and recording it (#createDependent). */
const staleBase = new Error('stale base schema')

/** NOTIFY channel of catalog changes (a trigger on tessera.tables, see store/migrations.ts). */
const CATALOG_CHANNEL = 'tessera_catalog'
/** Advisory lock key of catalog migrations (table ids, the other keys, are positive). */
const MIGRATION_LOCK = -1

/** Iterators live in src/iterators/, loaded on first use (they pull in document and media libraries). */
const resolveIterator: views.IteratorResolver = async (name) => {
  const mod = (await import('../iterators/index.ts')) as unknown as { getIterator?: (n: string) => views.ViewIterator }
  if (!mod.getIterator) throw invalid('INVALID_ARGUMENT', 'iterators are not available in this build')
  return mod.getIterator(name)
}

export function defaultHome(): string {
  return process.env.TESSERA_HOME || join(process.env.HOME || process.env.USERPROFILE || '.', '.tessera')
}

/**
 * A Tessera database: a catalog of dirs and tables on one store. `Tessera.open()` takes the data dir's kernel lock
 * first, because PGlite takes none and two processes on one data dir would corrupt it.
 */
export class Tessera {
  readonly #db: Driver
  readonly #lock: FileLock | undefined
  readonly #states = new Map<number, TableState>()
  readonly #locks = new KeyedMutex<number>()
  readonly #ctx: CatalogContext
  readonly home: string | undefined
  /** Media store (<home>/media; a temp dir for in-memory databases) and remote-file cache (<home>/cache). */
  readonly media: MediaEnv
  readonly #unregisterMedia: () => void
  #closed = false
  /** What open removed of writes killed before they committed (reported by check()). */
  #repaired: Repair[] = []
  #jobs: Jobs | undefined
  #unlisten: (() => Promise<void>) | undefined
  /** Compactions and media collections run one at a time. */
  #lifecycle: Promise<unknown> = Promise.resolve()
  #schedule: CompactionSchedule | undefined
  /** Why a view last failed to follow its base in this process (check() says it), until it follows again. */
  readonly #lagging = new Map<number, string>()
  /** The temporary media folder of a database without a home, removed at close(). */
  readonly #ownMediaHome: string | undefined
  /** Paths of tables recently dropped, by id (#forget), for the errors of handles that outlived them. */
  readonly #droppedPaths = new Map<number, string>()

  private constructor(db: Driver, lock: FileLock | undefined, home: string | undefined, mediaCacheBytes?: number, mediaDir?: string, mediaStore?: string, providers?: OpenOptions['providers']) {
    this.#db = db
    this.#lock = lock
    this.home = home
    // Nothing is created on disk until media is first stored or fetched.
    const mediaHome = home ?? join(tmpdir(), `tessera-mem-${process.pid}-${Math.random().toString(36).slice(2)}`)
    // An in-memory database's media live only as long as it does: close() removes them.
    if (home === undefined) this.#ownMediaHome = mediaHome
    const env = createMediaEnv(mediaHome, mediaCacheBytes !== undefined ? { cacheMaxBytes: mediaCacheBytes } : {})
    const cacheSettings = { cacheDir: join(mediaHome, 'cache-s3'), ...(mediaCacheBytes !== undefined ? { cacheMaxBytes: mediaCacheBytes } : {}) }
    this.media = mediaStore ? { ...env, store: openMediaStore(mediaStore, cacheSettings) } : mediaDir ? { ...env, store: new MediaStore(resolve(mediaDir)) } : env
    this.#unregisterMedia = registerMediaEnv(this.media)
    attachVectorIndexes(db, home, (tableId) => this.#locks.held(tableId))
    this.#ctx = {
      db,
      media: this.media,
      exec: execContext({ db, media: this.media, settings: SESSION_SETTINGS, ...(providers ? { providers } : {}) }),
      locks: this.#locks,
      state: (id) => {
        const s = this.#states.get(id)
        if (!s) throw this.#dropped(id)
        return s
      },
      setState: (s) => void this.#states.set(s.id, s),
      refresh: async (id) => {
        const r = await db.query<TableState & { id: number }>(`select id, path, kind, version, md from tessera.tables where id = $1`, [id])
        const row = r.rows[0]
        if (!row) {
          this.#forget(id)
          throw this.#dropped(id)
        }
        const s: TableState = { id: Number(row.id), path: row.path, kind: row.kind, version: row.version, md: row.md }
        this.#states.set(s.id, s)
        return s
      },
      afterChange: (state, kind) => (vectorIndexesAfterCommit(db, state.id, state.md, kind), this.#followBase(state, kind)),
      checkFollowers: (tx, locked, after) => views.assertFollowable(tx, locked, after),
      // Only a view a sync left behind pays: it catches up (or the read fails with why), as getTable's open does.
      beforeViewRead: async (viewId) => {
        if (this.#lagging.has(viewId)) await this.#catchUp(await this.#ctx.refresh(viewId))
      },
    }
  }

  /** Opens (creating if needed) the data dir at `home`, holding its lock until close(). */
  static async open(options: OpenOptions = {}): Promise<Tessera> {
    // Before anything opens: a misspelt provider setting (baseURL) would send the calls to the default endpoint.
    checkProviderConfigs(options.providers)
    if (options.database) return Tessera.#openServer(options.database, options)
    const home = resolve(options.home ?? defaultHome())
    // A bad media store setting (no credentials, a malformed URL) fails before the data dir is opened and locked.
    if (options.mediaStore) openMediaStore(options.mediaStore, { cacheDir: join(home, 'cache-s3') })
    mkdirSync(home, { recursive: true })
    const lockPath = join(home, '.lock')
    const rt = await runtime()
    const lock = await rt.tryLock(lockPath, { pid: process.pid, hostname: hostname(), since: new Date().toISOString(), ...(options.command ? { command: options.command } : {}) })
    if (!lock) {
      const holder = readHolder(lockPath) ?? readHolder(`${lockPath}.pid`)
      const who = holder ? `process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}${holder.since ? ` since ${holder.since}` : ''}` : 'another process'
      throw new TesseraError('DATA_DIR_LOCKED', `data dir ${home} is in use by ${who}; stop it, or connect to it over HTTP instead of opening the directory twice`, { home, pid: holder?.pid })
    }
    try {
      const db = await PGliteDriver.open({ dataDir: join(home, 'pgdata'), ...(options.assets ? { assets: options.assets } : {}), ...(options.restoreFrom ? { loadDataDir: options.restoreFrom } : {}) })
      await migrate(db)
      await applySessionSettings(db, SESSION_SETTINGS)
      const repaired = await repairUncommittedWrites(db)
      const t = new Tessera(db, lock, home, options.mediaCacheBytes, options.mediaDir, options.mediaStore, options.providers)
      t.#repaired = repaired
      await t.#dropReplacingLeftovers()
      t.#env = envOption(options)
      await openDestinations(db)
      return t
    } catch (e) {
      await lock.release()
      throw e
    }
  }

  /** A PostgreSQL server: no file lock (the server arbitrates); processes migrate one at a time. */
  static async #openServer(url: string, options: OpenOptions): Promise<Tessera> {
    const home = resolve(options.home ?? defaultHome())
    const db = await PostgresDriver.open({ url, settings: SESSION_SETTINGS })
    try {
      return await Tessera.fromDriver(db, { ...options, home, env: envOption(options) })
    } catch (e) {
      await db.close()
      throw e
    }
  }

  /** Wraps an already open store (in-memory tests, the PostgreSQL driver). */
  static async fromDriver(db: Driver, options: Pick<OpenOptions, 'home' | 'mediaDir' | 'mediaCacheBytes' | 'mediaStore' | 'env' | 'providers'> = {}): Promise<Tessera> {
    checkProviderConfigs(options.providers)
    if (db instanceof PostgresDriver) await db.withLock(MIGRATION_LOCK, () => migrate(db))
    else await migrate(db)
    await applySessionSettings(db, SESSION_SETTINGS)
    const t = new Tessera(db, undefined, options.home, options.mediaCacheBytes, options.mediaDir, options.mediaStore, options.providers)
    // Only what the caller passes: open() reads TESSERA_ENV, in-memory and wrapped stores do not.
    t.#env = options.env?.trim() || undefined
    await openDestinations(db)
    // Other processes on a shared server change tables too: their commits arrive as notifications, and the cached
    // state of those tables is re-read, so this process does not keep serving a schema that has changed.
    if (db.listen) t.#unlisten = await db.listen(CATALOG_CHANNEL, (payload) => t.#onCatalogChange(payload))
    return t
  }

  #onCatalogChange(payload: string): void {
    let change: { id: number; version: number | null; path: string | null }
    try {
      change = JSON.parse(payload)
    } catch {
      return
    }
    const cached = this.#states.get(Number(change.id))
    if (!cached || (cached.version === change.version && cached.path === change.path)) return
    void this.#ctx.refresh(cached.id).catch(() => undefined)
  }

  /** An in-memory database (nothing persists); `template` starts from a dumped data dir to skip initdb. */
  static async memory(template?: Blob): Promise<Tessera> {
    return Tessera.fromDriver(await PGliteDriver.open(template ? { loadDataDir: template } : {}))
  }

  /** The environment namespace paths are resolved in (TESSERA_ENV), if any. */
  get env(): string | undefined {
    return this.#env
  }

  #env: string | undefined

  /** 'app/docs' → 'prod_app/docs' under env 'prod' (paths already in the namespace stay as they are). */
  #envPath(path: string): string {
    return this.#env && typeof path === 'string' ? resolveEnvPath(path, this.#env) : path
  }

  get driver(): Driver {
    return this.#db
  }

  /** Background jobs (long backfills): start, list, get, wait, cancel, resume. */
  get jobs(): Jobs {
    return (this.#jobs ??= new Jobs({ db: this.#db, ctx: this.#ctx, getTable: (path) => this.getTable(path), heldMediaRefs: (refs, under) => this.heldMediaRefs(refs, under) }))
  }

  get closed(): boolean {
    return this.#closed
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#schedule?.stop()
    await this.#jobs?.stopAll()
    this.#unregisterMedia()
    await this.#unlisten?.().catch(() => undefined)
    await detachVectorIndexes(this.#db)
    await autoAnalyzeOf(this.#db).stop()
    await this.#db.close()
    await this.#lock?.release()
    if (this.#ownMediaHome) await rm(this.#ownMediaHome, { recursive: true, force: true })
  }

  /** Verifies the catalog against the stored data; an empty problem list means the data dir is consistent. */
  async check(): Promise<{ tables: number; problems: CheckProblem[]; media: GcReport; repaired: Repair[] }> {
    // A view found behind its base may be following it right now in this process: it is a problem only if it is
    // still behind once its base's lock (under which views follow) is free.
    const r = await checkIntegrity(this.#db, (view, base) => this.#locks.run(base, async () => {
      const v = await loadTableById(this.#db, view)
      const b = await loadTableById(this.#db, base)
      const reason = this.#lagging.get(view)
      return { behind: v !== undefined && b !== undefined && v.md.view!.syncedBaseVersion < b.version, ...(reason ? { reason } : {}) }
    }), (base, fn) => this.#locks.run(base, fn))
    // Orphans are garbage, not damage (gc removes them); a file rows refer to but the store lacks is a problem.
    const media = await this.#serialized(() => collectMedia(this.#db, this.media.store, { dryRun: true }))
    const problems = [...r.problems, ...media.missing.slice(0, 100).map((ref) => ({ table: '(media)', problem: `${ref} is referenced by rows but missing from the media store` }))]
    if (media.missing.length > 100) problems.push({ table: '(media)', problem: `${media.missing.length - 100} more referenced media files are missing` })
    return { tables: r.tables, problems, media, repaired: this.#repaired }
  }

  // ---------------------------------------------------------------- data lifecycle (retention.ts, compact.ts)

  /**
   * Sets the retention policy of a table (or view), or with no path the database default for tables without one:
   * `{ keepVersions: 10 }`, `{ keepFor: '7d' }`, or both (a version is kept when either keeps it); null removes it.
   * Nothing is removed until compact() runs.
   */
  async setRetention(policy: RetentionPolicy | null, path?: string): Promise<void> {
    const id = path === undefined ? undefined : await this.#tableId(path)
    await storePolicy(this.#db, id, policy)
  }

  /** The policy that applies to a table (its own or the database default), or the database default. */
  async getRetention(path?: string): Promise<EffectiveRetention> {
    return effectivePolicy(this.#db, path === undefined ? undefined : await this.#tableId(path))
  }

  /**
   * Removes the row versions no retained version can see (retention policies; keepVersions/keepFor here override
   * them for this run), vacuums, and deletes media files no remaining row refers to. History stays as metadata;
   * time travel to a removed version fails naming the oldest retained one.
   */
  compact(options: CompactOptions = {}): Promise<CompactReport> {
    return this.#serialized(() => compactDatabase({ db: this.#db, store: this.media.store, locks: this.#locks, ...(this.#db.kind === 'pglite' && this.home ? { dataDir: join(this.home, 'pgdata') } : {}) }, options))
  }

  /** Deletes media files no row version refers to (written more than graceSeconds ago, default an hour). */
  gc(options: GcOptions = {}): Promise<GcReport> {
    return this.#serialized(() => collectMedia(this.#db, this.media.store, options))
  }

  /**
   * Of `refs` (canonical media store refs), those a row version of a table or view under one of `under` holds (table
   * paths or dir prefixes, as token scopes name them; '' is every path): the server refuses a scoped token's write of
   * any other store ref (src/media/ref-gate.ts). A fixed number of statements per call, whatever the number of refs.
   */
  heldMediaRefs(refs: readonly string[], under: readonly string[]): Promise<Set<string>> {
    return heldStoreRefs(this.#db, refs, under.map((p) => (p === '' ? p : this.#envPath(p))))
  }

  /** Compacts every intervalSeconds in the background (plain VACUUM) until close(); `tessera serve --compact-every`. */
  startCompaction(intervalSeconds: number, log: (line: string) => void = () => undefined): void {
    if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1) throw invalid('INVALID_ARGUMENT', `the compaction interval must be at least 1 second, got ${intervalSeconds}`)
    if (this.#schedule) throw invalid('INVALID_ARGUMENT', 'background compaction is already running')
    this.#schedule = new CompactionSchedule(() => this.compact({ full: false }), intervalSeconds * 1000, log)
  }

  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lifecycle.then(fn, fn)
    this.#lifecycle = run.catch(() => undefined)
    return run
  }

  async #tableId(path: string): Promise<number> {
    const p = parsePath(path).path
    const s = await loadTableByPath(this.#db, p)
    if (!s) throw notFound('TABLE_NOT_FOUND', `table '${p}' does not exist`, { path: p })
    if (s.kind === 'snapshot') throw invalid('INVALID_ARGUMENT', `'${p}' is a snapshot: it keeps exactly one version of its base, and has no retention of its own`)
    return s.id
  }

  // ---------------------------------------------------------------- dirs

  async createDir(path: string, options: dirs.CreateDirOptions = {}): Promise<{ created: boolean }> {
    refuseUnknownOptions('createDir', options, { ifExists: OPTION_VALUES.ifExists, parents: OPTION_VALUES.flag })
    path = this.#envPath(path)
    const dropped: TableState[] = []
    const created = await this.#db.transaction((tx) => dirs.createDir(tx, path, options, (p) => this.#dropContents(tx, p, dropped)))
    if (options.ifExists === 'replace' || options.ifExists === 'replace_force') this.#forgetUnder(parsePath(path).path)
    this.#afterDrops(dropped)
    return { created }
  }

  async dropDir(path: string, options: dirs.DropDirOptions = {}): Promise<void> {
    refuseUnknownOptions('dropDir', options, { force: OPTION_VALUES.flag, ifNotExists: OPTION_VALUES.ifNotExists })
    const p = parsePath(this.#envPath(path)).path
    const dropped: TableState[] = []
    await this.#db.transaction(async (tx) => {
      if (!(await dirs.dirExists(tx, p))) {
        if (options.ifNotExists === 'ignore') return
        throw notFound('DIR_NOT_FOUND', `directory '${p}' does not exist`, { path: p })
      }
      if ((await dirs.listChildren(tx, p)) > 0 && !options.force) {
        throw invalid('DIR_NOT_EMPTY', `directory '${p}' is not empty; pass force: true to drop it with everything in it`, { path: p })
      }
      await this.#dropContents(tx, p, dropped)
      await tx.query(`delete from tessera.dirs where path = $1`, [p])
    })
    this.#forgetUnder(p)
    this.#afterDrops(dropped)
  }

  listDirs(path = '', options: dirs.ListOptions = {}): Promise<string[]> {
    return dirs.listDirs(this.#db, path ? this.#envPath(path) : path, options)
  }

  listTables(path = '', options: dirs.ListOptions = {}): Promise<string[]> {
    return dirs.listTables(this.#db, path ? this.#envPath(path) : path, options)
  }

  /** Moves or renames a dir (with its contents) or a table. */
  async move(from: string, to: string): Promise<void> {
    await this.#db.transaction((tx) => dirs.movePath(tx, this.#envPath(from), this.#envPath(to)))
    for (const s of [...this.#states.values()]) await this.#ctx.refresh(s.id).catch(() => undefined)
  }

  /**
   * Drops every table under `path` as dropTable(force) does: with its views and snapshots, also those outside the dir
   * (they were left over a table that no longer existed), and their native indexes (#afterDrops, after the commit).
   */
  async #dropContents(tx: Queryable, path: string, dropped: TableState[]): Promise<void> {
    // Newest first: a view or snapshot inside the dir goes before its base, so each base finds only outside ones.
    const r = await tx.query<{ id: number }>(`select id from tessera.tables where starts_with(path, $1) order by id desc`, [`${path}/`])
    for (const { id } of r.rows) {
      const s = await loadTableById(tx, Number(id))
      if (s) await this.#dropTableIn(tx, s, true, dropped)
    }
    await tx.query(`delete from tessera.dirs where starts_with(path, $1)`, [`${path}/`])
  }

  #forgetUnder(path: string): void {
    for (const [id, s] of this.#states) if (s.path === path || s.path.startsWith(`${path}/`)) this.#forget(id)
  }

  /** Drops a table's cached state, keeping its path: a handle resolved before the drop names the table by it. */
  #forget(id: number, path = this.#states.get(id)?.path): void {
    this.#states.delete(id)
    autoAnalyzeOf(this.#db).forget(id)
    if (path === undefined) return
    this.#droppedPaths.delete(id)
    this.#droppedPaths.set(id, path)
    // Ids are never reused; the most recent drops are the ones a request in flight can still meet.
    if (this.#droppedPaths.size > 1000) this.#droppedPaths.delete(this.#droppedPaths.keys().next().value!)
  }

  /** The error for a handle whose table was dropped after it was resolved: named by path, never by internal id. */
  #dropped(id: number): TesseraError {
    const path = this.#droppedPaths.get(id)
    return path !== undefined
      ? notFound('TABLE_NOT_FOUND', `table '${path}' was dropped`, { path })
      : notFound('TABLE_NOT_FOUND', 'the table was dropped')
  }

  // ---------------------------------------------------------------- tables

  /**
   * Creates a table from { column: type } ('int', 'string?', 'image', 'array<float32>[384]').
   * ifExists: 'error' (default), 'ignore' (return the existing table), 'replace', 'replace_force'.
   */
  async createTable(path: string, schema: Record<string, string>, options: CreateTableOptions = {}): Promise<Table> {
    const p = parsePath(this.#envPath(path)).path
    refuseUnknownOptions('createTable', options, { primaryKey: true, ifExists: OPTION_VALUES.ifExists, comment: true, mediaValidation: ['on_write', 'on_read'] })
    const ifExists = options.ifExists ?? 'error'
    const columns: ColumnMd[] = Object.entries(schema ?? {}).map(([name, type], id) => ({
      id, name: checkName(name, 'column name'), type: formatType(parseType(type)), addedIn: 0,
      // Media columns store a bad file's error per cell (insert with onError: 'ignore').
      ...(isMedia(parseType(type)) ? { cellErrors: true as const } : {}),
    }))
    if (columns.length === 0) throw invalid('INVALID_ARGUMENT', `table '${p}' needs at least one column`)
    const pkNames = options.primaryKey === undefined ? [] : typeof options.primaryKey === 'string' ? [options.primaryKey] : [...options.primaryKey]
    const primaryKey = pkNames.map((n) => {
      const c = columns.find((x) => x.name === n)
      if (!c) throw invalid('INVALID_ARGUMENT', `primary key column '${n}' is not in the schema of '${p}'`, { column: n })
      if (parseType(c.type).nullable) throw invalid('INVALID_ARGUMENT', `primary key column '${n}' cannot be nullable ('${c.type}')`, { column: n })
      if (['json', 'array', 'binary', 'image', 'video', 'audio', 'document'].includes(parseType(c.type).kind)) {
        throw invalid('INVALID_ARGUMENT', `primary key column '${n}' has type ${c.type}, which cannot be a key`, { column: n })
      }
      return c.id
    })
    const md: TableMd = {
      columns, primaryKey, nextColumnId: columns.length, mediaValidation: options.mediaValidation ?? 'on_write',
      ...(options.comment ? { comment: options.comment } : {}),
    }
    const { handle, replaced } = await this.#existing(p, ifExists)
    if (handle) return handle
    const force = ifExists === 'replace_force'
    if (replaced) await assertReplaceable(this.#db, replaced, force)
    // A replace drops the old table in the transaction that records the new one (src/catalog/replace.ts). It looks
    // again there even when there was none above: a table another request created since is replaced too, as it
    // would have been a moment later, not refused as 'already exists' to a request that asked to replace it.
    const dropped: TableState[] = []
    const replacing = ifExists === 'replace' || ifExists === 'replace_force'
    try {
      const created = await this.#createRecord(p, 'table', md, replacing ? (tx) => this.#dropReplaced(tx, p, force, dropped) : undefined)
      this.#afterDrops(dropped)
      return this.#handle(created)
    } catch (e) {
      // Created by someone else since #existing looked: 'ignore' returns that table, as if it had been there first.
      const raced = ifExists === 'ignore' && e instanceof TesseraError && e.code === 'TABLE_ALREADY_EXISTS' ? (await this.#existing(p, 'ignore')).handle : undefined
      if (raced) return raced
      throw e
    }
  }

  /** A table by path; 'path:N' gives a read-only handle on version N (time travel). */
  async getTable(path: string): Promise<Table> {
    const parsed = parsePath(this.#envPath(path), { allowVersion: true })
    // On a shared server another process may have changed the table since it was cached: read it (one row).
    const cachedId = this.#db.kind === 'pglite' ? [...this.#states.values()].find((s) => s.path === parsed.path)?.id : undefined
    const state = cachedId !== undefined ? this.#states.get(cachedId)! : await loadTableByPath(this.#db, parsed.path)
    if (!state) {
      const isDir = await dirs.dirExists(this.#db, parsed.path)
      throw notFound('TABLE_NOT_FOUND', isDir ? `'${parsed.path}' is a directory, not a table` : `table '${parsed.path}' does not exist`, { path: parsed.path })
    }
    this.#states.set(state.id, state)
    if (state.kind === 'view' && parsed.version === undefined) await this.#catchUp(state)
    if (parsed.version === undefined) return new Table(this.#ctx, state.id)
    const current = await this.#ctx.refresh(state.id)
    if (parsed.version > current.version) {
      throw notFound('VERSION_NOT_FOUND', `table '${parsed.path}' has no version ${parsed.version} (current is ${current.version})`, { path: parsed.path, version: parsed.version })
    }
    if (state.kind !== 'snapshot') await assertVersionRetained(this.#db, state.id, parsed.path, parsed.version)
    const md = await mdAtVersion(this.#db, state.id, parsed.path, parsed.version)
    return new Table(this.#ctx, state.id, { version: parsed.version, md, path: parsed.path })
  }

  /** Alias of getTable, as in Pixeltable's pxt.get_table; accepts 'path:N'. */
  get(path: string): Promise<Table> {
    return this.getTable(path)
  }

  /** Drops a table, view or snapshot. Dependents (views, snapshots) need force: true, and are dropped with it. */
  async dropTable(path: string, options: { ifNotExists?: IfNotExists; force?: boolean } = {}): Promise<void> {
    refuseUnknownOptions('dropTable', options, { ifNotExists: OPTION_VALUES.ifNotExists, force: OPTION_VALUES.flag })
    const p = parsePath(this.#envPath(path)).path
    const dropped: TableState[] = []
    await this.#db.transaction(async (tx) => {
      const state = await loadTableByPath(tx, p)
      if (!state) {
        if (options.ifNotExists === 'ignore') return
        throw notFound('TABLE_NOT_FOUND', `table '${p}' does not exist`, { path: p })
      }
      await this.#dropTableIn(tx, state, options.force === true, dropped)
    })
    this.#afterDrops(dropped)
  }

  /**
   * Drops a table in `tx`, with its views and snapshots (transitively, wherever they are) when `force`; else refuses
   * if it has any. Adds what it dropped to `dropped` (dependents first), for #afterDrops once `tx` commits.
   */
  async #dropTableIn(tx: Queryable, s: TableState, force: boolean, dropped: TableState[]): Promise<void> {
    // Its catalog row is locked before its dependents are listed: a view or snapshot being created over it locks
    // that row too (#createDependent), so it is either listed here or finds the table gone, never left over it.
    await lockTableRow(tx, s.id, s.path)
    const deps = await views.dependentsOf(tx, s.id)
    if (deps.length > 0 && !force) {
      throw views.hasDependentsError(s.path, deps)
    }
    for (const d of deps) await this.#dropTableIn(tx, d, force, dropped)
    if (s.kind !== 'snapshot') await dropDataTable(tx, s.id)
    await tx.query(`delete from tessera.tables where id = $1`, [s.id])
    dropped.push(s)
  }

  /**
   * Drops a view whose first sync failed. Anything made over it meanwhile keeps it (nothing is dropped with force);
   * a drop that fails too leaves it as it is: the caller gets the sync's error, which says what was wrong.
   */
  async #dropUnsynced(view: TableState): Promise<void> {
    const dropped: TableState[] = []
    try {
      await this.#db.transaction((tx) => this.#dropTableIn(tx, view, false, dropped))
    } catch {
      await this.#ctx.refresh(view.id).catch(() => undefined)
      return
    }
    this.#afterDrops(dropped)
  }

  /** After a drop commits: cached states forgotten, native indexes closed and their files removed. */
  #afterDrops(dropped: readonly TableState[]): void {
    for (const s of dropped) this.#forget(s.id, s.path)
    for (const s of dropped) this.#forgetUnder(s.path)
    for (const s of dropped) vectorIndexesAfterCommit(this.#db, s.id, undefined, 'drop')
  }

  // ---------------------------------------------------------------- views and snapshots

  /**
   * Creates a view over a table: its rows are the base rows matching `where`, optionally expanded by an iterator
   * (one base row → many rows with `pos`); it can have computed columns of its own and follows every base change.
   */
  async createView(path: string, base: Table | Query | string, options: { where?: ExprLike; iterator?: views.ViewSpec['iterator']; ifExists?: IfExists } = {}): Promise<Table> {
    const p = parsePath(this.#envPath(path)).path
    // Options are never silently dropped: Pixeltable's sample= and the like are refused by name.
    const unknown = Object.keys(options ?? {}).filter((k) => !['where', 'iterator', 'ifExists'].includes(k) && (options as Record<string, unknown>)[k] !== undefined)
    if (unknown.length > 0) throw invalid('INVALID_ARGUMENT', `createView: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; it takes where, iterator and ifExists${unknown.includes('sample') ? ' (a view follows every base change, so it cannot sample; filter with where)' : ''}`, { option: unknown[0] })
    refuseUnknownOptions('createView', options, { where: true, iterator: true, ifExists: OPTION_VALUES.ifExists })
    // A query base (t.where(...)) contributes its filter; anything else it says is refused by name.
    const fromQuery = isQuery(base) ? viewBaseOf(base) : undefined
    if (fromQuery && fromQuery.source.version !== undefined) throw invalid('INVALID_ARGUMENT', `a view needs a live base table, not '${fromQuery.source.path}' at a fixed version; use createSnapshot for that`)
    const baseTable = fromQuery ? await this.getTable(fromQuery.source.path) : typeof base === 'string' ? await this.getTable(base) : base as Table
    if (baseTable.pinnedVersion !== undefined || baseTable.md.snapshot) throw invalid('INVALID_ARGUMENT', `a view needs a live base table, not '${baseTable.path}' at a fixed version; use createSnapshot for that`)
    const { handle, replaced } = await this.#existing(p, options.ifExists ?? 'error')
    if (handle) return handle
    const force = options.ifExists === 'replace_force'
    if (replaced) await assertReplaceable(this.#db, replaced, force, baseTable.id)
    // A replacing view is made and synced under a temporary path, and takes `p` (dropping the old object) only once
    // its first sync has succeeded: a failed replace leaves the old object as it was (src/catalog/replace.ts). So it
    // is when there was nothing to replace above: what another request made at `p` since is replaced as it takes it.
    const replacing = options.ifExists === 'replace' || force
    const at = replacing ? replacingPath(p) : p
    const qualifying = await baseTable.qualifyingPaths()
    const own = options.where === undefined ? undefined : ownColumns(toNode(options.where), qualifying)
    const inherited = fromQuery?.where ? ownColumns(fromQuery.where, qualifying) : undefined
    const where = own && inherited ? fnNode('and', [inherited, own]) : own ?? inherited
    const spec = { ...(where ? { where } : {}), ...(options.iterator ? { iterator: options.iterator } : {}) }
    // Under the base's lock, as its schema changes run: the view is made on the schema its creation commits against.
    const id = await this.#locks.run(baseTable.id, async () => {
      const created = await this.#createDependent(at, 'view', baseTable.id, (base) => views.viewMd(base, spec, resolveIterator))
      // The first sync fills the view with the base's current rows. It may be staged in steps, so it cannot share the
      // transaction that records the view; when it fails (a filter failing on a row, an iterator's missing file), the
      // view is dropped again: a failed createView leaves nothing behind (it left a view that could not be opened,
      // whose path stayed taken).
      try {
        await this.#syncView(created.id, this.#ctx.state(baseTable.id))
        if (replacing) await this.#takePath(created.id, p, force)
      } catch (e) {
        await this.#dropUnsynced(this.#states.get(created.id) ?? created)
        throw e
      }
      return created.id
    }).catch((e: unknown) => Promise.reject(replacing ? underUserPath(e, at, p) : e))
    return new Table(this.#ctx, id)
  }

  /** Creates a read-only snapshot of a table at its current version (or the version of a 'path:N' handle). */
  async createSnapshot(path: string, base: Table | string, options: { ifExists?: IfExists } = {}): Promise<Table> {
    refuseUnknownOptions('createSnapshot', options, { ifExists: OPTION_VALUES.ifExists })
    const p = parsePath(this.#envPath(path)).path
    const baseTable = typeof base === 'string' ? await this.getTable(base) : base
    const { handle, replaced } = await this.#existing(p, options.ifExists ?? 'error')
    if (handle) return handle
    const source = baseTable.querySource()
    const force = options.ifExists === 'replace_force'
    if (replaced) await assertReplaceable(this.#db, replaced, force, source.tableId)
    const version = source.version ?? baseTable.version
    const md: TableMd = { ...source.md, snapshot: { baseId: source.tableId, version } }
    // The snapshot reads its base's rows: it is recorded only while the base still exists (#createDependent). A
    // replace drops the old object in the same transaction (src/catalog/replace.ts), also one made since it looked.
    const dropped: TableState[] = []
    const replacing = options.ifExists === 'replace' || force
    const created = await this.#createDependent(p, 'snapshot', source.tableId, async () => md, { sameSchema: false, ...(replacing ? { before: (tx: Queryable) => this.#dropReplaced(tx, p, force, dropped, source.tableId) } : {}) })
    this.#afterDrops(dropped)
    return this.#handle(created)
  }

  /**
   * After a committed change of `state`, its views follow (and their views, recursively). The change has committed,
   * so a view that fails to follow (a computed column of its own failing on a new row, an iterator failing on a
   * document) does not fail it, nor stop the other views: that view stays at the base version it reflects, catches
   * up on a later base change or when it is opened (getTable, which then reports why it cannot), and check() lists
   * it. Schema changes a view could not follow are refused before the base commits (views.assertFollowable).
   */
  async #followBase(state: TableState, kind: string): Promise<void> {
    const deps = (await views.dependentsOf(this.#db, state.id)).filter((d) => d.kind === 'view')
    for (const d of deps) {
      this.#states.set(d.id, d)
      try {
        // A base revert is mirrored by reverting the view's sync of the popped version (not refused as a user's
        // revert of a view's sync is: here the base went back first) when that sync took in the popped version
        // alone; one that took in several (the view's first, or a catch-up) is undone by a new version that goes
        // back to the base's current rows (views.syncView's undo), as popping it would lose the others. The revert
        // guard (views.assertBaseRevertable) checked the whole chain of views before the base committed.
        if (kind === 'revert' && d.md.view!.syncedBaseVersion > state.version) {
          if (await views.mirrorsByPop(this.#db, d, state.version)) await revertLatest(this.#ctx, d.id)
          else await this.#syncView(d.id, state, { undo: true })
        } else await this.#syncView(d.id, state)
      } catch (e) {
        this.#lagging.set(d.id, e instanceof Error ? e.message : String(e))
        await this.#ctx.refresh(d.id).catch(() => undefined)
      }
    }
  }

  /** A view left behind (a crash between a base commit and its sync) catches up when it is opened. */
  async #catchUp(view: TableState): Promise<void> {
    const baseId = view.md.view!.baseId
    const base = this.#states.get(baseId) ?? (await this.#ctx.refresh(baseId))
    if (base.version > view.md.view!.syncedBaseVersion) await this.#locks.run(baseId, () => this.#syncView(view.id, this.#ctx.state(baseId)))
  }

  async #syncView(viewId: number, base: TableState, options: { undo?: boolean } = {}): Promise<void> {
    const next = await this.#locks.run(viewId, async () => {
      const view = await this.#ctx.refresh(viewId)
      return views.syncView(this.#ctx, view, base, resolveIterator, options)
    })
    this.#lagging.delete(viewId)
    if (next) await this.#followBase(next, 'sync')
  }

  /**
   * ifExists for tables, views and snapshots: the existing handle ('ignore'), an error, or (a replace) the object to
   * replace, which the creation drops only in its final transaction (#dropReplaced, #takePath).
   */
  async #existing(p: string, ifExists: IfExists): Promise<{ handle?: Table; replaced?: TableState }> {
    const existing = await loadTableByPath(this.#db, p)
    if (!existing) return {}
    if (ifExists === 'ignore') return { handle: existing.kind === 'view' ? await this.getTable(p) : this.#handle(existing) }
    if (ifExists === 'error') throw alreadyExists('TABLE_ALREADY_EXISTS', `'${p}' already exists; pass ifExists: 'ignore' to use it or 'replace' to recreate it`, { path: p })
    return { replaced: existing }
  }

  /**
   * A replace's drop, in the transaction that makes the new object take `p`: what is at `p` now (with its dependents
   * when `force`; refused if it has any otherwise), never `keep` (the new object's base, or the new view itself).
   */
  async #dropReplaced(tx: Queryable, p: string, force: boolean, dropped: TableState[], ...keep: number[]): Promise<void> {
    // A server store may run the transaction again: what it dropped is what its last run did.
    dropped.length = 0
    const old = await loadTableByPath(tx, p)
    if (!old) return
    await this.#dropTableIn(tx, old, force, dropped)
    const lost = dropped.find((d) => keep.includes(d.id))
    if (lost) throw invalid('INVALID_ARGUMENT', `'${p}' cannot be replaced by an object made over '${lost.path}': the replace would drop it`, { path: p })
  }

  /**
   * Drops views a replace left under their temporary path when its process was killed mid-sync (nothing else can open
   * or list them). Only at the open of a data dir: it is this process's alone, while on a server store another process
   * may be replacing right now.
   */
  async #dropReplacingLeftovers(): Promise<void> {
    const r = await this.#db.query<{ id: number }>(`select id from tessera.tables where strpos(path, $1) > 0 order by id desc`, [REPLACING_MARK])
    for (const { id } of r.rows) {
      const dropped: TableState[] = []
      await this.#db.transaction(async (tx) => {
        const s = await loadTableById(tx, Number(id))
        if (s) await this.#dropTableIn(tx, s, true, dropped)
      })
      this.#afterDrops(dropped)
    }
  }

  /** A replacing view, synced under its temporary path, takes `p`: the old object is dropped in the same transaction. */
  async #takePath(viewId: number, p: string, force: boolean): Promise<void> {
    const dropped: TableState[] = []
    await this.#db.transaction(async (tx) => {
      const view = await lockTableRow(tx, viewId, p)
      await this.#dropReplaced(tx, p, force, dropped, viewId, view.md.view!.baseId)
      await dirs.takeTablePath(tx, view.id, p)
    })
    this.#afterDrops(dropped)
    await this.#ctx.refresh(viewId)
  }

  /**
   * A view or snapshot over table `baseId`, recorded in a transaction that first locks the base's catalog row, as
   * dropTable does before it lists a table's dependents: a drop racing this either lists the new dependent (and drops
   * it with force, or refuses) or has dropped the base before, and then nothing is created. Before, an orphan was
   * left: listed, unreadable, over a table that no longer existed. `make` builds the metadata from the base's state;
   * with sameSchema (a view's columns are the base's), a base schema another process changed in between makes it
   * build again from the new one.
   */
  async #createDependent(p: string, kind: 'view' | 'snapshot', baseId: number, make: (base: TableState) => Promise<TableMd>, options: { sameSchema?: boolean; before?: (tx: Queryable) => Promise<void> } = {}): Promise<TableState> {
    for (let attempt = 0; ; attempt++) {
      const base = await this.#ctx.refresh(baseId)
      const md = await make(base)
      const hold = async (tx: Queryable) => {
        const locked = await lockTableRow(tx, baseId, base.path).catch((e) => {
          throw e instanceof TesseraError && e.code === 'TABLE_NOT_FOUND' ? notFound('TABLE_NOT_FOUND', `table '${base.path}' was dropped`, { path: base.path }) : e
        })
        if (options.sameSchema !== false && !sameMd(locked.md, base.md)) throw staleBase
        await options.before?.(tx)
      }
      try {
        return await this.#createRecord(p, kind, md, hold)
      } catch (e) {
        if (e !== staleBase) throw e
        if (attempt >= 2) throw new ConcurrencyError('CONCURRENCY_CONFLICT', `the schema of '${base.path}' kept changing while '${p}' was created over it; try again`, { path: base.path })
      }
    }
  }

  /** The catalog row, the data table (snapshots have none: they read their base) and version 0, in one transaction. */
  async #createRecord(p: string, kind: TableKind, md: TableMd, before?: (tx: Queryable) => Promise<void>): Promise<TableState> {
    const state = await this.#db.transaction(async (tx) => {
      await before?.(tx)
      if (await dirs.dirExists(tx, p)) throw alreadyExists('PATH_ALREADY_EXISTS', `'${p}' is a directory`, { path: p })
      await dirs.requireParentDir(tx, p, 'table')
      const r = await tx.query<{ id: number }>(`insert into tessera.tables(path, kind, version, md) values ($1, $2, 0, $3::jsonb) returning id`, [p, kind, JSON.stringify(md)])
      const id = Number(r.rows[0]!.id)
      if (kind !== 'snapshot') await createDataTable(tx, id, md)
      await commitVersion(tx, id, 0, 'create', md)
      return { id, path: p, kind, version: 0, md }
    }).catch((e) => {
      if ((e as { code?: string }).code === '23505') throw alreadyExists('TABLE_ALREADY_EXISTS', `'${p}' already exists`, { path: p })
      throw e
    })
    this.#states.set(state.id, state)
    return state
  }

  #handle(state: TableState): Table {
    this.#states.set(state.id, state)
    return new Table(this.#ctx, state.id)
  }
}

/** The env namespace a Tessera.open() works in: the option, else TESSERA_ENV (the same rule as tessera apply). */
function envOption(options: OpenOptions): string | undefined {
  return options.env !== undefined ? options.env.trim() || undefined : currentEnv()
}
