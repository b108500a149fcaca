import { existsSync, readdirSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { defaultHome } from '../../catalog/index.ts'
import { isAlive, readHolder, runtime } from '../../runtime/index.ts'
import { SCHEMA_VERSION } from '../../store/index.ts'
import type { Command } from '../command.ts'
import type { Tessera } from '../../catalog/index.ts'
import { DATA_DIR_HELP, DATA_DIR_OPTIONS, out } from '../command.ts'
import { homeOption, mediaStoreOptions, openDataDir, openLocal, redactUrl, storeOptions } from '../target.ts'

function dirSize(path: string): { bytes: number; files: number } {
  if (!existsSync(path)) return { bytes: 0, files: 0 }
  let bytes = 0
  let files = 0
  for (const e of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue
    files++
    bytes += statSync(join(e.parentPath, e.name)).size
  }
  return { bytes, files }
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'explain a data dir: who holds its lock, what it contains, whether it opens',
  maxArguments: 0,
  usage: 'tessera doctor [--home DIR] [--database URL] [--media-dir DIR]',
  options: { ...DATA_DIR_OPTIONS },
  help: `Safe beside a running server: it only reads the lock file and sizes then, and opens the dir only when free.

options:
${DATA_DIR_HELP}

examples:
  tessera doctor --home /data`,
  async run(values) {
    const home = resolve(homeOption(values) ?? defaultHome())
    const { database } = storeOptions(values)
    const media = mediaStoreOptions(values)
    // On a PostgreSQL server (--database, TESSERA_DATABASE_URL) there is no data dir lock or pgdata/: the server.
    if (database) {
      out(`database: ${redactUrl(database)} (--database or TESSERA_DATABASE_URL); media: ${media.mediaStore ?? resolve(media.mediaDir ?? join(home, 'media'))}`)
      return openAndDescribe(() => openDataDir({ home, database, ...media, command: 'tessera doctor' }))
    }
    out(`data dir: ${home}${existsSync(home) ? '' : ' (does not exist yet: `tessera init` creates it)'}`)
    if (!existsSync(home)) return 0
    const lockPath = join(home, '.lock')
    const rt = await runtime()
    const lock = await rt.tryLock(lockPath, { pid: process.pid, hostname: hostname(), command: 'tessera doctor' })
    if (!lock) {
      const h = readHolder(lockPath)
      out(`lock: held by process ${h?.pid ?? '?'}${h?.command ? ` (${h.command})` : ''}${h?.since ? ` since ${h.since}` : ''}${h?.hostname ? ` on ${h.hostname}` : ''}` +
        (h && h.hostname === hostname() ? (isAlive(h.pid) ? ', running' : ', NOT running (the kernel lock says otherwise: another mount namespace?)') : ''))
      out('  the data dir is in use: talk to that process over HTTP, or stop it (SIGTERM finishes in-flight writes) before opening the dir')
    } else {
      await lock.release()
      out('lock: free (no process has the data dir open)')
    }
    for (const sub of ['pgdata', 'media', 'cache']) {
      const s = dirSize(join(home, sub))
      out(`${sub}: ${mb(s.bytes)} in ${s.files} files`)
    }
    if (media.mediaDir || media.mediaStore) {
      const elsewhere = media.mediaStore ?? resolve(media.mediaDir!)
      if (/^s3:/i.test(elsewhere)) out(`media store: ${elsewhere}`)
      else {
        const s = dirSize(elsewhere)
        out(`media (${elsewhere}, from --media-dir/--media-store or TESSERA_MEDIA_DIR/STORE): ${mb(s.bytes)} in ${s.files} files`)
      }
    }
    if (!lock) return 0
    return openAndDescribe(() => openLocal({ home, ...media, command: 'tessera doctor' }))
  },
}

/** Opens the store, describes its catalog and closes it; a store that does not open is the doctor's finding (1). */
async function openAndDescribe(open: () => Promise<Tessera>): Promise<number> {
  try {
    const db = await open()
    try {
      await describeCatalog(db)
    } finally {
      await db.close()
    }
  } catch (e) {
    out(`open: FAILED: ${(e as Error).message}`)
    return 1
  }
  return 0
}

/** The catalog's version and contents, and the integrity check's verdict. */
async function describeCatalog(db: Tessera): Promise<void> {
  const r = await db.driver.query<{ kind: string; n: number }>(`select kind, count(*)::int as n from tessera.tables group by kind order by kind`)
  const v = await db.driver.query<{ value: number }>(`select value from tessera.meta where key = 'schema_version'`)
  out(`catalog: version ${v.rows[0]?.value} (this build understands ${SCHEMA_VERSION}); ${r.rows.map((x) => `${x.n} ${x.kind}s`).join(', ') || 'no tables'}`)
  const { problems } = await db.check()
  out(problems.length === 0 ? 'integrity: ok' : `integrity: ${problems.length} problems (run tessera check for details)`)
}
