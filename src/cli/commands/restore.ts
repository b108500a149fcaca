import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { defaultHome } from '../../catalog/index.ts'
import type { Command } from '../command.ts'
import { CliError, DATA_DIR_OPTIONS, err, out, STORE_HELP, UsageError } from '../command.ts'
import { ticker } from '../progress.ts'
import { homeOption, mediaStoreOptions, openLocal, storeOptions } from '../target.ts'

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a backup folder into a new (empty) data dir, then verify it',
  maxArguments: 1,
  usage: 'tessera restore BACKUP_DIR [--home NEW_DIR] [--media-dir DIR]',
  help: `Never over live data: the target must not hold a database yet. After loading, the restored dir is checked
(like 'tessera check'); exit code 1 when problems are found. A damaged backup (a truncated or corrupt
pgdata.tar.gz) is refused and leaves nothing behind. Media files go where the data dir will look for them:
--media-dir / TESSERA_MEDIA_DIR (or a --media-store folder), else <home>/media. Only into the embedded database:
a PostgreSQL server (--database) is restored with its own tools.

options:
  -d, --home DIR     the new data dir (default $TESSERA_HOME, else ~/.tessera)
${STORE_HELP}

examples:
  tessera restore ./backups/2026-12-02 --home ./data-restored`,
  options: { ...DATA_DIR_OPTIONS },
  async run(values, positionals) {
    const from = positionals[0]
    if (!from) throw new UsageError('name the backup folder')
    const tarball = join(from, 'pgdata.tar.gz')
    if (!existsSync(tarball)) throw new UsageError(`${from} is not a backup folder: it has no pgdata.tar.gz`)
    if (storeOptions(values).database) {
      throw new CliError('restore loads a backup into a new data dir\'s embedded database, not into a PostgreSQL server (--database or TESSERA_DATABASE_URL): unset it, or load the server with its own tools (pg_restore)')
    }
    const media = mediaStoreOptions(values)
    const home = resolve(homeOption(values) ?? defaultHome())
    // Media go where the restored dir will look for them; a bucket is not written from here.
    const mediaTarget = media.mediaStore !== undefined
      ? (/^[a-z][a-z0-9+.-]*:\/\//i.test(media.mediaStore) && !/^file:/i.test(media.mediaStore) ? undefined : resolve(media.mediaStore.replace(/^file:\/\//i, '')))
      : resolve(media.mediaDir ?? join(home, 'media'))
    const backupMedia = join(from, 'media')
    if (mediaTarget === undefined && existsSync(backupMedia) && readdirSync(backupMedia).length > 0) {
      throw new CliError(`the backup's media files go into a folder, not into ${media.mediaStore}: restore with --media-dir DIR (then upload that folder to the bucket yourself)`)
    }
    // Restored into the backup's own folder, the database and media files would be written among the backup's files.
    const backupDir = resolve(from)
    if (home === backupDir || home.startsWith(backupDir + sep)) throw new UsageError(`the new data dir ${home} is inside the backup folder ${backupDir}; restore into a folder of its own`)
    if (existsSync(join(home, 'pgdata'))) throw new UsageError(`${home} already has a database; restore into a new folder (never over live data)`)
    const steps = ticker(`restore ${from} → ${home}`)
    // The backup is read whole before anything is written: a truncated or corrupt tarball fails here, naming it.
    steps.step('verifying the backup')
    await verifyGzip(tarball).catch((e: unknown) => {
      steps.stop('failed')
      throw new CliError(`the backup is damaged: ${tarball} is not a complete gzip tarball (${(e as Error).message}); use another backup`)
    })
    // Everything this restore creates is removed again when it fails, so a failed restore leaves nothing behind
    // (an empty pgdata/ would make the next restore refuse, and other commands open an empty database).
    const homeExisted = existsSync(home)
    const lockExisted = existsSync(join(home, '.lock'))
    const mediaExisted = existsSync(mediaTarget ?? '')
    const undo = () => {
      if (!homeExisted) return rmSync(home, { recursive: true, force: true })
      rmSync(join(home, 'pgdata'), { recursive: true, force: true })
      if (!lockExisted) rmSync(join(home, '.lock'), { force: true })
      if (mediaTarget !== undefined && !mediaExisted) rmSync(mediaTarget, { recursive: true, force: true })
    }
    try {
      steps.step('loading the database')
      mkdirSync(home, { recursive: true })
      // Load the dump into the new data dir under its lock, so nothing else opens it half-restored.
      const db0 = await openLocal({ home, command: 'tessera restore', restoreFrom: new Blob([readFileSync(tarball)]) }).catch((e: unknown) => {
        if ((e as { code?: string }).code === 'DATA_DIR_LOCKED') throw e
        throw new CliError(`the backup is damaged: ${tarball} does not load as a database (${(e as Error).message}); use another backup`, 1, { cause: e })
      })
      await db0.close()
      steps.step('copying media files')
      const copied = mediaTarget !== undefined ? copyMediaFiles(backupMedia, mediaTarget) : 0
      steps.step('checking')
      const db = await openLocal({ home, command: 'tessera restore', ...media })
      try {
        const { tables, problems } = await db.check()
        steps.stop('done')
        for (const p of problems) err(`${p.table}: ${p.problem}`)
        out(`restored ${tables} tables into ${home}${copied ? ` (${copied} media files into ${mediaTarget})` : ''}${problems.length ? ` with ${problems.length} problems` : ''}`)
        return problems.length ? 1 : 0
      } finally {
        await db.close()
      }
    } catch (e) {
      steps.stop('failed')
      // Not when another process holds the dir: what is there is its, not this restore's.
      if ((e as { code?: string }).code !== 'DATA_DIR_LOCKED') undo()
      throw e
    }
  },
}

/** Reads a gzip file to its end: throws on a truncated or corrupt one (gzip checks its length and CRC). */
async function verifyGzip(file: string): Promise<void> {
  await pipeline(createReadStream(file), createGunzip(), new Writable({ write: (_chunk, _enc, done) => done() }))
}

/** Copies a backup's media files (<2 hex>/<sha256>.<ext>) into a media folder; existing files are the same bytes. */
function copyMediaFiles(from: string, to: string): number {
  if (!existsSync(from)) return 0
  let files = 0
  for (const shard of readdirSync(from)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue
    for (const name of readdirSync(join(from, shard))) {
      if (!/^[0-9a-f]{64}(\.[a-z0-9]{1,10})?$/.test(name)) continue
      mkdirSync(join(to, shard), { recursive: true })
      if (!existsSync(join(to, shard, name))) copyFileSync(join(from, shard, name), join(to, shard, name))
      files++
    }
  }
  return files
}
