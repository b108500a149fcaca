import { PGlite } from '@electric-sql/pglite'
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'

// Data dirs on disk, as users run them. initdb costs seconds, so one Tessera home and one raw PGlite data dir are
// initialised once per run and copied (closed) for each fresh instance. The raw PGlite runs in the same process as
// Tessera but on its own directory: never two instances on one dir.

export class BenchEnv {
  readonly root: string
  #tesseraTemplate: string | undefined
  #rawTemplate: string | undefined
  readonly #open: { close(): Promise<void> }[] = []
  readonly #dirs: string[] = []

  constructor() {
    this.root = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'tessera-bench-'))
  }

  /** A fresh, closed Tessera home (a copy of an initialised, migrated one). */
  async tesseraHome(): Promise<string> {
    if (!this.#tesseraTemplate) {
      this.#tesseraTemplate = join(this.root, 'template-tessera')
      const db = await Tessera.open({ home: this.#tesseraTemplate })
      await db.close()
      rmSync(join(this.#tesseraTemplate, '.lock'), { force: true })
    }
    const home = mkdtempSync(join(this.root, 'tessera-'))
    cpSync(this.#tesseraTemplate, home, { recursive: true })
    this.#dirs.push(home)
    return home
  }

  /** A fresh Tessera on its own data dir; closed by close(). */
  async tessera(): Promise<{ db: Tessera; home: string }> {
    const home = await this.tesseraHome()
    const db = await Tessera.open({ home })
    this.#open.push(db)
    return { db, home }
  }

  /** A fresh, closed raw PGlite data dir. */
  async rawDir(): Promise<string> {
    if (!this.#rawTemplate) {
      this.#rawTemplate = join(this.root, 'template-raw')
      const pg = await PGlite.create({ dataDir: this.#rawTemplate })
      await pg.close()
    }
    const dataDir = mkdtempSync(join(this.root, 'raw-'))
    cpSync(this.#rawTemplate, dataDir, { recursive: true })
    this.#dirs.push(dataDir)
    return dataDir
  }

  /** A fresh raw PGlite on its own data dir; closed by close(). */
  async raw(): Promise<{ pg: PGlite; dataDir: string }> {
    const dataDir = await this.rawDir()
    const pg = await PGlite.create({ dataDir })
    this.#open.push(pg)
    return { pg, dataDir }
  }

  /** Closes what this env opened so far and removes its data dirs (between cases), keeping the templates. */
  async closeOpen(): Promise<void> {
    for (const x of this.#open.splice(0)) await x.close().catch(() => undefined)
    if (!process.env.BENCH_KEEP) for (const d of this.#dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  }

  async close(): Promise<void> {
    for (const x of this.#open.splice(0)) await x.close().catch(() => undefined)
    if (!process.env.BENCH_KEEP) rmSync(this.root, { recursive: true, force: true })
  }
}

/** Bytes under a directory (apparent size of regular files). */
export function dirBytes(path: string): number {
  let total = 0
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name)
    if (e.isDirectory()) total += dirBytes(p)
    else if (e.isFile()) total += statSync(p).size
  }
  return total
}
