import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { IndexMd, TableMd, VersionKind } from '../../catalog/index.ts'
import type { Driver } from '../../store/index.ts'
import type { AnnSettings, FileCheck, Quantization } from './native.ts'
import { ANN_DEFAULTS, defaultQuantization, metaPath, NativeIndex, removeIndexFiles } from './native.ts'
import { Pace } from './pace.ts'
import { countVectors, currentVersion, markNative, readColumnValues, readVectors, rowsEnded, rowsWithoutVector, vectorPageRows, versionStamp } from './store.ts'
import { ColumnCopies } from './column-copies.ts'
import { isFileCheck } from './file-check.ts'
import type { ColumnMd } from '../../catalog/index.ts'

/** Store time a page of the build's vector reads aims at (see #addRows). */
const PAGE_MS = 40

// The native indexes of one embedded store. Each index is a derived structure: it holds, keyed by _rowid, the
// vector of every row current at the version it `covers` (plus keys of rows deleted since, which queries skip).
// Queries add the rows written after that version by exact search, so a search never misses a row while an index
// builds or catches up. Everything here runs in the background: commits only note the new version.
//
// On disk (<home>/indexes/): the usearch file and a JSON note of the version it covers, with that version's commit
// time and the file's length and CRC-32. At open, a note naming a version the table no longer has (revert, restore
// of an older backup), or with a different commit time (reverted and written again), or no note at all, means a
// rebuild; otherwise a catch-up. The file is verified against its note before usearch reads it (file-check.ts): a
// damaged file crashed the process at a later search, so one that fails is never loaded, but rebuilt from the table
// (searches are exact meanwhile) and reported by `tessera check`. A note of format 1 (saved before notes recorded
// the checksum) cannot vouch for its file: that index is rebuilt once, at its first use after the upgrade.

/**
 * A native index as an index listing shows it (see AnnEntry#status); 'not loaded': it is loaded or built at the
 * table's first search or write since the database opened. `vectors`: keys in the graph, one per row with a
 * vector at `version` (a row deleted or set to null since leaves at the next catch-up); `version`: the table version
 * it covers (-1 while none).
 */
export interface NativeIndexStatus {
  readonly state: 'not loaded' | 'building' | 'catching up' | 'ready'
  readonly vectors: number
  readonly version: number
  /**
   * How the graph holds its vectors, while there is one: the index's own setting, else its metric's default — or, for
   * an index saved before f16 became cosine's default, f32 until it is rebuilt (#canOpen).
   */
  readonly quantization?: Quantization
}

/** Saves at most this often while rows keep coming (each save writes the whole file). */
const SAVE_EVERY_MS = 30_000

interface Note {
  readonly format: 2
  readonly version: number
  readonly stamp: string
  readonly settings: AnnSettings
  /** The usearch file's length and CRC-32 as saved: verified before it is loaded. */
  readonly file: FileCheck
}

export class AnnEntry {
  native: NativeIndex | undefined
  /** The table version the native index holds every current row of; -1 while none is ready. */
  version = -1
  stamp = ''
  #task: Promise<void> | undefined
  #again = false
  #closed = false
  /** A prebuilt entry's job stopped (cancelled, or the process closing): its build stops as if closed. */
  #abandoned: (() => boolean) | undefined
  #rebuild = false
  #savedAt = 0
  #dirty = false
  /** Commits that may have ended rows (anything but inserts), counted so a run knows whether it saw them all. */
  #endings = 0
  /** Commits to the table, and how many of them the last finished run had seen when it started. */
  #commits = 0
  #seenCommits = -1
  /**
   * Every key in the native index is a current row (deleted rows' keys were removed up to the covered version and
   * no commit since could have ended a row): an unfiltered search needs no check that its candidates are live.
   */
  liveOnly = false
  lastError: unknown
  /**
   * Why the saved file was not loaded, when its note vouched for it but it failed verification (damaged, truncated,
   * missing) or usearch refused it: the index was rebuilt from the table instead. The next `tessera check` reports it
   * (problems()).
   */
  discarded: string | undefined
  /** Copies of the columns searches filter on or return, kept at the graph's version (column-copies.ts). */
  readonly columnCopies = new ColumnCopies()
  /**
   * Where the last build or catch-up spent its time (benchmarks): waiting for pages of vectors from the store, and
   * adding them (the next page is read meanwhile), of which `engineMs` inside usearch.
   */
  lastFill: { rows: number; readWaitMs: number; addMs: number; engineMs: number; startedAt: number } | undefined

  constructor(readonly owner: VectorIndexes, readonly tableId: number, readonly idx: IndexMd, readonly settings: AnnSettings, readonly path: string | undefined) {}

  /** Starts (or queues) bringing the index up to the table's current version. */
  kick(rebuild = false): void {
    if (this.#closed) return
    if (rebuild) this.#rebuild = true
    if (this.#task) {
      this.#again = true
      return
    }
    this.#task = this.#run().catch((e) => {
      this.lastError = e
    }).finally(() => {
      this.#task = undefined
      if (this.#again && !this.#closed) {
        this.#again = false
        this.kick()
      }
    })
  }

  /**
   * From queries, at most once a second: catch up with commits that did not pass the catalog's hook (another
   * writer's, a background job's). The rows are searched exactly until then, so this is about speed only.
   */
  touch(): void {
    const now = Date.now()
    if (now - this.#touched < 1000) return
    this.#touched = now
    if (!this.#task) this.kick()
  }
  #touched = Date.now()

  /** Resolves when no upkeep is running or queued (tests, check, benchmarks). */
  async settled(): Promise<void> {
    while (this.#task) await this.#task
  }

  async close(save: boolean): Promise<void> {
    this.#closed = true
    await this.#task?.catch(() => undefined)
    if (save && this.#dirty) await this.#save().catch((e) => (this.lastError = e))
    await this.#drop(this.native)
    this.native = undefined
  }

  dispose(removeFiles = true): void {
    this.#closed = true
    const native = this.native
    this.native = undefined
    const path = removeFiles ? this.path : undefined
    // A running build may still save: free the graph and remove the files once it has stopped.
    void (this.#task ?? Promise.resolve()).catch(() => undefined).finally(async () => {
      await this.#drop(native)
      if (path) removeIndexFiles(path)
    })
  }

  /** Frees a graph in the engine (a replaced or closed one). */
  async #drop(native: NativeIndex | undefined): Promise<void> {
    await native?.drop().catch(() => undefined)
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Closed, or (while prebuilt for a job) the job stopped: a build or catch-up in progress stops where it is. */
  #stopped(): boolean {
    return this.#closed || this.#abandoned?.() === true
  }

  /** A prebuilt entry (VectorIndexes#prebuilt): its work stops when `stop` says so, until the swap adopts it. */
  abandonWhen(stop: (() => boolean) | undefined): void {
    this.#abandoned = stop
  }

  /** A rebuild was asked for and has not started: until it does, the graph must not answer (searches are exact). */
  get rebuildDue(): boolean {
    return this.#rebuild
  }

  /**
   * The index covers every version committed so far: no row was written after its version, so a search has no tail
   * of newer rows to rank (and needs no statement to find out).
   */
  get caughtUp(): boolean {
    return this.native !== undefined && this.#seenCommits === this.#commits
  }

  /**
   * What searches get from this index now (index listings): 'building' — no graph yet, or a rebuild is due: searches
   * rank every row exactly; 'catching up' — the graph covers an earlier version and the rows written since are ranked
   * exactly beside its candidates; 'ready' — the graph covers every committed version.
   */
  status(): NativeIndexStatus {
    const state = !this.native || this.#rebuild ? 'building' : this.caughtUp ? 'ready' : 'catching up'
    return { state, vectors: this.native?.size ?? 0, version: this.version, ...(this.native ? { quantization: this.native.settings.quantization } : {}) }
  }

  /**
   * A search tests these columns in its filter, or returns only them: copy them (in the background, by the upkeep)
   * so the next searches judge their candidates without a probe statement, or answer without a statement at all.
   */
  wantColumnCopies(columns: readonly ColumnMd[], use: 'filter' | 'returned'): void {
    if (this.columnCopies.want(columns, Math.max(this.native?.size ?? 0, 1), use)) this.kick()
  }

  /** A commit to the table. */
  noteCommit(): void {
    this.#commits++
  }

  /** A commit that may have ended rows (update, delete, revert, ...). */
  noteEndings(): void {
    this.#endings++
    this.liveOnly = false
  }

  async #run(): Promise<void> {
    const endings = this.#endings
    const commits = this.#commits
    const from = this.version
    await this.#step()
    // Nothing ended rows while this ran, and the index is at (at least) the version read at its start.
    if (this.native && endings === this.#endings) this.liveOnly = true
    if (this.native && !this.#stopped()) this.#seenCommits = commits
    // The column copies follow the graph; searches use them only once they reach its version, and probe till then.
    if (this.native && !this.#stopped()) await this.#copyColumns(from)
  }

  async #step(): Promise<void> {
    const db = this.owner.db
    if (this.#rebuild || !this.native) {
      const rebuild = this.#rebuild
      this.#rebuild = false
      if (rebuild) {
        // Its vectors may be stale (recomputed in place): exact search until the new one is ready.
        void this.#drop(this.native)
        this.native = undefined
        this.version = -1
      } else if (await this.#load()) {
        return this.#step()
      }
      await this.#build()
      return
    }
    const target = await currentVersion(db, this.tableId)
    if (target === undefined || target === this.version) return
    if (target < this.version || (await versionStamp(db, this.tableId, this.version)) !== this.stamp) {
      // The version the index saw is gone (reverted): some of its vectors may be of rows no longer current.
      void this.#drop(this.native)
      this.native = undefined
      this.version = -1
      await this.#build()
      return
    }
    const stamp = (await versionStamp(db, this.tableId, target))!
    await this.#addRows(this.native, { after: this.version, upTo: target })
    await this.native.remove(await rowsEnded(db, this.tableId, this.version, target))
    // A row still current but without a vector now (updated to null) keeps its key: its earlier vector goes too.
    await this.native.remove(await rowsWithoutVector(db, this.tableId, this.idx.valueColumnId, this.version, target))
    // Stopped part-way, the graph may lack rows of the range: it must not claim the target version.
    if (this.#stopped()) return
    this.version = target
    this.stamp = stamp
    this.#dirty = true
    if (Date.now() - this.#savedAt > SAVE_EVERY_MS) await this.#save()
  }

  /** A saved index whose note still names a version of this table as it is. */
  async #load(): Promise<boolean> {
    if (!this.path || !existsSync(metaPath(this.path))) return false
    const file = basename(this.path)
    let note: Note
    try {
      note = JSON.parse(readFileSync(metaPath(this.path), 'utf8')) as Note
    } catch (e) {
      // Notes are written whole (a temporary file renamed): one that does not parse was damaged on disk.
      this.discarded = `its file ${file} was not loaded, as its note cannot be read (${e instanceof Error ? e.message : String(e)})`
      return false
    }
    if (typeof note !== 'object' || note === null) {
      this.discarded = `its file ${file} was not loaded, as its note cannot be read (it holds ${JSON.stringify(note)})`
      return false
    }
    // Format 1 (before checksums) or a later one: nothing here can verify the file, so it is rebuilt (once).
    if (note.format !== 2) return false
    if (!isFileCheck(note.file)) {
      this.discarded = `its file ${file} was not loaded, as its note records no valid length and checksum`
      return false
    }
    if (!this.#canOpen(note.settings)) return false
    if ((await versionStamp(this.owner.db, this.tableId, note.version)) !== note.stamp) return false
    const opened = await NativeIndex.open(this.path, note.settings, note.file)
    if ('problem' in opened) {
      this.discarded = `its file ${file} ${opened.problem}`
      return false
    }
    const native = opened.index
    if (this.#stopped()) {
      await this.#drop(native)
      return false
    }
    this.native = native
    this.version = note.version
    this.stamp = note.stamp
    this.#savedAt = Date.now()
    this.columnCopies.clear()
    return true
  }

  /**
   * Whether a graph saved with `saved` settings serves this index: the same settings, or, where the index names no
   * quantization, the same but for it. An index saved under an earlier default (f32 for cosine before 2026-12-04)
   * keeps its vectors' form until it is rebuilt rather than being rebuilt at the first open after an upgrade (a
   * million vectors: minutes of exact searches meanwhile); a rebuild takes today's default.
   */
  #canOpen(saved: AnnSettings): boolean {
    if (JSON.stringify(saved) === JSON.stringify(this.settings)) return true
    return this.idx.ann?.quantization === undefined && JSON.stringify({ ...saved, quantization: this.settings.quantization }) === JSON.stringify(this.settings)
  }

  async #build(): Promise<void> {
    // A new graph from nothing (first build, rebuild after a revert or a recompute): the copies start again with it.
    this.columnCopies.clear()
    const db = this.owner.db
    const target = await currentVersion(db, this.tableId)
    if (target === undefined) return
    const stamp = (await versionStamp(db, this.tableId, target))!
    const native = await NativeIndex.create(this.settings)
    await this.#addRows(native, { after: -1, upTo: target })
    if (this.#stopped()) {
      await this.#drop(native)
      return
    }
    this.native = native
    this.version = target
    this.stamp = stamp
    await this.#save()
    // Rows committed while it built are picked up by the next pass.
    this.#again = true
  }

  /**
   * Reads the range's vectors page by page while the engine adds the page before (the store's worker and the
   * index's run side by side; this thread only passes pages along).
   */
  async #addRows(native: NativeIndex, range: { after: number; upTo: number }): Promise<void> {
    // Pages start small and are sized to ~40 ms of store time each at the best rate seen (pace.ts): a statement cannot
    // be preempted, and a fixed 1,024-row page of 256-d vectors took 0.4-0.9 s on a loaded 2-core machine, holding
    // every read behind it.
    const pace = new Pace(Math.min(256, vectorPageRows(this.settings.dims)), PAGE_MS, { min: 64, max: vectorPageRows(this.settings.dims), growth: 2 })
    const read = (after: number) => {
      const asked = performance.now()
      const rows = pace.size
      return readVectors(this.owner.db, this.tableId, this.idx.valueColumnId, this.settings.dims, range, after, rows).then((page) => {
        pace.took(rows, performance.now() - asked)
        return page
      })
    }
    const stats = { rows: 0, readWaitMs: 0, addMs: 0, engineMs: 0, startedAt: performance.now() }
    this.lastFill = stats
    let next = read(0)
    for (;;) {
      const t0 = performance.now()
      const page = await next
      const t1 = performance.now()
      stats.readWaitMs += t1 - t0
      stats.rows += page.keys.length
      const more = page.lastRowId >= 0 && !this.#stopped()
      if (more) {
        next = read(page.lastRowId)
        // Not awaited when closing meanwhile: a failure then (the store closed too) is nobody's.
        next.catch(() => undefined)
      }
      stats.engineMs += await native.add(page.keys, page.vectors, () => this.#stopped())
      stats.addMs += performance.now() - t1
      if (!more || this.#stopped()) return
    }
  }

  /**
   * Brings the column copies to the graph's version: those at `from` (the version before this run) read the rows
   * written since, the others (new, or the graph was built again) read every current row, by _rowid pages sized like
   * the vector pages. Until a copy reaches the graph's version, searches probe the store.
   */
  async #copyColumns(from: number): Promise<void> {
    const to = this.version
    if (to < 0) return
    const { stale } = this.columnCopies.split(to)
    if (stale.length === 0) return
    const atFrom = new Set(this.columnCopies.split(from).current)
    const extend = stale.filter((n) => atFrom.has(n))
    const whole = stale.filter((n) => !atFrom.has(n))
    if (extend.length > 0) await this.#readColumns(extend, { after: from, upTo: to })
    if (whole.length > 0) {
      this.columnCopies.reset(whole)
      await this.#readColumns(whole, { after: -1, upTo: to })
    }
  }

  async #readColumns(ids: readonly number[], range: { after: number; upTo: number }): Promise<void> {
    const pace = new Pace(1024, PAGE_MS, { min: 256, max: 65_536, growth: 2 })
    for (let after = 0; ;) {
      if (this.#stopped()) return
      const rows = pace.size
      const t0 = performance.now()
      const page = await readColumnValues(this.owner.db, this.tableId, ids, range, after, rows)
      pace.took(rows, performance.now() - t0)
      this.columnCopies.put(ids, page.keys, page.values)
      if (page.lastRowId < 0) break
      after = page.lastRowId
    }
    if (!this.#stopped()) this.columnCopies.reached(ids, range.upTo)
  }

  async #save(): Promise<void> {
    if (!this.path || !this.native) return
    const file = await this.native.save(this.path)
    const note: Note = { format: 2, version: this.version, stamp: this.stamp, settings: this.native.settings, file }
    writeFileSync(`${metaPath(this.path)}.tmp`, JSON.stringify(note))
    renameSync(`${metaPath(this.path)}.tmp`, metaPath(this.path))
    // Written after the index: a crash in between leaves an older note with a newer index, whose checksum the note
    // does not record: it fails verification at the next open and is rebuilt (never loaded unverified).
    this.#savedAt = Date.now()
    this.#dirty = false
  }

  /**
   * Problems `tessera check` reports: the saved file failed verification (it was rebuilt instead of loaded), or the
   * graph misses rows of the version it says it covers. Waits for a running load or build first; a graph found
   * incomplete is rebuilt and saved before this returns, so the repair the problem names has happened (its note is
   * removed first: a process stopped mid-rebuild rebuilds at its next open rather than load the incomplete file).
   */
  async problems(): Promise<string[]> {
    await this.settled()
    const name = `native index '${this.idx.name}'`
    const out: string[] = []
    const failed = () => String((this.lastError as Error | undefined)?.message ?? this.lastError)
    if (this.discarded) {
      out.push(`${name}: ${this.discarded}; ${this.native ? `rebuilt from the table (version ${this.version})` : this.lastError ? `its rebuild failed: ${failed()}` : 'it is rebuilt at its next use'}`)
      // Reported once the repair is done (a server's later checks find the index whole), until then at every check.
      if (this.native) this.discarded = undefined
    }
    if (!this.native) {
      if (this.lastError && !this.discarded) out.push(`${name} failed to build: ${failed()}`)
      return out
    }
    const found: string[] = []
    const stamp = await versionStamp(this.owner.db, this.tableId, this.version)
    if (stamp !== this.stamp) found.push(`${name} covers version ${this.version}, which the table no longer has as it was`)
    const expected = await countVectors(this.owner.db, this.tableId, this.idx.valueColumnId, this.version)
    let have = 0
    let after = 0
    do {
      const page = await readVectors(this.owner.db, this.tableId, this.idx.valueColumnId, this.settings.dims, { after: -1, upTo: this.version }, after, vectorPageRows(this.settings.dims))
      have += (await this.native.contains(page.keys)).filter(Boolean).length
      after = page.lastRowId
    } while (after >= 0)
    if (have < expected) found.push(`${name} lacks ${expected - have} of the ${expected} vectors of version ${this.version}`)
    if (found.length === 0) return out
    if (this.path) rmSync(metaPath(this.path), { force: true })
    this.lastError = undefined
    this.kick(true)
    await this.settled()
    const outcome = this.native && !this.#rebuild ? `rebuilt from the table (version ${this.version})` : this.lastError ? `its rebuild failed: ${failed()}` : 'it is rebuilt at the next open'
    for (const f of found) out.push(`${f} (${outcome})`)
    return out
  }
}

/** The settings a graph of `idx` is built with: the index's own, else the defaults (quantization by metric). */
export function annSettings(idx: IndexMd): AnnSettings {
  const a = idx.ann ?? {}
  return {
    metric: idx.metric, dims: idx.dims, m: a.m ?? ANN_DEFAULTS.m, efConstruction: a.efConstruction ?? ANN_DEFAULTS.efConstruction,
    efSearch: a.efSearch ?? ANN_DEFAULTS.efSearch, quantization: a.quantization ?? defaultQuantization(idx.metric),
  }
}

/** The native indexes of one embedded store (memory-only when it has no home). */
export class VectorIndexes {
  readonly #entries = new Map<string, AnnEntry>()
  /** Entries of indexes an index job is about to swap in (see prebuilt): not in any table's metadata yet. */
  readonly #prebuilt = new Map<string, AnnEntry>()
  readonly #dir: string | undefined

  /**
   * `writing(tableId)`: whether a write to the table may be under way (its lock is held or waited for). A commit
   * becomes visible in the store before its hook (afterCommit) runs here, so only while no write is under way does
   * "the index covers every commit" (caughtUp) hold for what a reader of the store would see.
   */
  constructor(readonly db: Driver, home: string | undefined, readonly writing: (tableId: number) => boolean) {
    this.#dir = home ? join(home, 'indexes') : undefined
  }

  /**
   * The entry of an index, created (and its load or build started) on first use; an index job's prebuilt entry is
   * taken over as it is (its graph serves at once and catches up with the versions committed since it was built).
   */
  entry(tableId: number, idx: IndexMd): AnnEntry {
    const key = entryKey(tableId, idx)
    let e = this.#entries.get(key)
    if (!e) {
      e = this.#prebuilt.get(key)
      if (e) {
        this.#prebuilt.delete(key)
        e.abandonWhen(undefined)
      } else {
        e = this.#newEntry(tableId, idx)
      }
      this.#entries.set(key, e)
      e.kick()
    }
    return e
  }

  #newEntry(tableId: number, idx: IndexMd): AnnEntry {
    const path = this.#dir ? join(this.#dir, `t${tableId}-${idx.name}-c${idx.valueColumnId}.usearch`) : undefined
    return new AnnEntry(this, tableId, idx, annSettings(idx), path)
  }

  /**
   * An index job's swap (`swap`: the commit that adds `idx` to the table), with the index's native graph built
   * before it. Built after the swap, as any new entry is, the graph of a 100k-row table took tens of seconds, and
   * until it covered the table every search ranked all rows exactly (block slices, 0.5-0.9 s a search) — while the
   * old index, whose graph was complete, had just been dropped. Built first, the old index keeps serving until the
   * swap, and the new entry (entry(), at the swap's commit hook or at the first search after it, whichever comes
   * first) serves from its graph at once: it covers the version it was built at, and rows written since join
   * searches as newer rows (exactly) until the usual catch-up adds them. Nothing else uses the entry before the
   * swap; commits meanwhile are only counted (afterCommit), so that it knows which of them its graph has seen.
   *
   * Stopped (`stop`: the job was cancelled or the process is closing) or failed swap: the entry is freed with its
   * files, and the old index serves as before. Returns undefined when stopped before the swap.
   */
  async prebuilt<T>(tableId: number, idx: IndexMd, stop: () => boolean, swap: () => Promise<T>): Promise<T | undefined> {
    const key = entryKey(tableId, idx)
    this.#prebuilt.get(key)?.dispose()
    const e = this.#newEntry(tableId, idx)
    e.abandonWhen(stop)
    this.#prebuilt.set(key, e)
    try {
      // Built from the job's vectors column (or, for a job resumed after the process was killed mid-build, a graph
      // that build saved, when its version is still the table's: loaded and caught up).
      e.kick()
      await e.settled()
      if (stop()) return undefined
      // A build that failed leaves the entry without a graph: the swap goes ahead and the entry builds again after it
      // (as any new entry would); the graph is a derived structure, not a reason to fail the job.
      return await swap()
    } finally {
      // Not adopted (stopped, or the swap failed): the old index keeps serving; free the new graph and its files.
      if (this.#prebuilt.get(key) === e) {
        this.#prebuilt.delete(key)
        e.dispose()
      }
    }
  }

  /** After a commit: bring the table's indexes along; forget indexes the table no longer has. */
  afterCommit(tableId: number, md: TableMd | undefined, kind: VersionKind | 'revert' | 'drop'): void {
    const live = new Set((md?.indexes ?? []).map((i) => entryKey(tableId, i)))
    for (const [key, e] of this.#entries) {
      if (e.tableId !== tableId || live.has(key)) continue
      this.#entries.delete(key)
      // An index replaced by one of the same name over the same column has the same files: the new one keeps them.
      e.dispose(![...this.#entries.values()].some((x) => x.path === e.path))
    }
    const prebuilt = [...this.#prebuilt.values()].filter((e) => e.tableId === tableId)
    this.#removeStaleFiles(tableId, new Set([...(md?.indexes ?? []), ...prebuilt.map((e) => e.idx)].map((i) => `${i.name}:${i.valueColumnId}`)))
    // A prebuilt entry only counts the commits (its graph's coverage is judged by them after the swap); one that
    // changed vectors in place (recompute, revert) makes it build again before the swap.
    for (const e of prebuilt) {
      e.noteCommit()
      if (kind !== 'insert' && kind !== 'create') e.noteEndings()
      if (kind === 'recompute' || kind === 'revert') e.kick(true)
    }
    for (const idx of md?.indexes ?? []) {
      const e = this.entry(tableId, idx)
      e.columnCopies.retain(md!.columns)
      e.noteCommit()
      if (kind !== 'insert' && kind !== 'create') e.noteEndings()
      // Recomputing a column rewrites vectors in place (no new row version): only a rebuild sees that. A revert
      // brings back row versions whose vectors the graph may have replaced: rebuilt too, and searches are exact
      // from now on (not from when the upkeep notices the version went back: a search in between used the graph).
      e.kick(kind === 'recompute' || kind === 'revert')
    }
  }

  /** Files of the table's indexes that no longer exist (dropped while not loaded, or with the table). */
  #removeStaleFiles(tableId: number, live: Set<string>): void {
    if (!this.#dir || !existsSync(this.#dir)) return
    for (const f of readdirSync(this.#dir)) {
      const m = /^t(\d+)-(.*)-c(\d+)\.usearch/.exec(f)
      if (m && Number(m[1]) === tableId && !live.has(`${m[2]}:${m[3]}`)) rmSync(join(this.#dir, f), { force: true })
    }
  }

  /** An index's status for a listing, which does not start loading or building it ('not loaded' until something does). */
  statusOf(tableId: number, idx: IndexMd): NativeIndexStatus {
    return this.#entries.get(entryKey(tableId, idx))?.status() ?? { state: 'not loaded', vectors: 0, version: -1 }
  }

  entries(tableId?: number): AnnEntry[] {
    return [...this.#entries.values()].filter((e) => tableId === undefined || e.tableId === tableId)
  }

  async close(): Promise<void> {
    // A prebuilt entry's job stops first (the database stops its jobs before it detaches the indexes); any left keeps
    // no files: the resumed job builds again.
    for (const e of this.#prebuilt.values()) e.dispose()
    this.#prebuilt.clear()
    await Promise.all([...this.#entries.values()].map((e) => e.close(true)))
    this.#entries.clear()
  }

  /** Prebuilt entries not swapped in yet (tests: a stopped or failed job leaves none). */
  get prebuiltCount(): number {
    return this.#prebuilt.size
  }
}

/**
 * An index's entry: by table, name, vectors column and the version that added it, so an index replaced by one of the
 * same name over the same column of vectors (other settings) gets a new entry.
 */
const entryKey = (tableId: number, idx: IndexMd): string => `${tableId}:${idx.name}:${idx.valueColumnId}:${idx.addedIn}`

const managers = new WeakMap<object, VectorIndexes>()

/**
 * Attaches native indexes to an embedded store; `home` persists them under <home>/indexes/. `writing` tells whether a
 * write to a table may be under way (the catalog's table locks).
 */
export function attachVectorIndexes(db: Driver, home: string | undefined, writing: (tableId: number) => boolean): void {
  if (db.kind !== 'pglite' || managers.has(db)) return
  managers.set(db, new VectorIndexes(db, home, writing))
  void markNative(db).catch(() => undefined)
}

export const vectorIndexesOf = (db: object): VectorIndexes | undefined => managers.get(db)

/** The catalog's hook after a version commits (insert, update, delete, schema change, revert). */
export function vectorIndexesAfterCommit(db: object, tableId: number, md: TableMd | undefined, kind: VersionKind | 'revert' | 'drop'): void {
  managers.get(db)?.afterCommit(tableId, md, kind)
}

/**
 * An index job's swap with the index's native graph built first (VectorIndexes#prebuilt); on a store without native
 * indexes, just the swap.
 */
export function withPrebuiltVectorIndex<T>(db: object, tableId: number, idx: IndexMd, stop: () => boolean, swap: () => Promise<T>): Promise<T | undefined> {
  const m = managers.get(db)
  return m ? m.prebuilt(tableId, idx, stop, swap) : swap()
}

/** Saves every index and stops upkeep; the store closes after. */
export async function detachVectorIndexes(db: object): Promise<void> {
  const m = managers.get(db)
  if (!m) return
  managers.delete(db)
  await m.close()
}
