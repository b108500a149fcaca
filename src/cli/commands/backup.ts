import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../client/index.ts'
import type { Tessera } from '../../catalog/index.ts'
import type { Command } from '../command.ts'
import { CliError, DATA_DIR_OPTIONS, err, out, STORE_HELP, UsageError } from '../command.ts'
import { progressBar, ticker } from '../progress.ts'
import { openHome, remoteUrl, serverToken, storeOptions } from '../target.ts'

// A backup is a folder: pgdata.tar.gz (PGlite's dump of the database), media/ (uploaded files) and manifest.json.

async function backupServer(url: string, token: string | undefined, outDir: string): Promise<void> {
  const http = connect(url, token ? { token } : {}).http
  const steps = ticker(`backup ${url}`)
  steps.step('dumping the database')
  const res = await http.raw('POST', '/api/v1/admin/backup')
  if (!res.ok) throw (await import('../../client/index.ts')).toError(res.status, await res.json().catch(() => undefined))
  writeFileSync(join(outDir, 'pgdata.tar.gz'), new Uint8Array(await res.arrayBuffer()))
  steps.stop('database dumped')
  // The media store's files, one request each (content-addressed: the same layout as <home>/media).
  const { files } = await http.request<{ files: string[] }>('GET', '/api/v1/admin/media')
  const bar = progressBar('media')
  for (const [i, key] of files.entries()) {
    const file = await http.raw('GET', `/api/v1/admin/media/${key}`)
    if (!file.ok) throw (await import('../../client/index.ts')).toError(file.status, await file.json().catch(() => undefined))
    mkdirSync(join(outDir, 'media', key.slice(0, 2)), { recursive: true })
    writeFileSync(join(outDir, 'media', key.slice(0, 2), key), new Uint8Array(await file.arrayBuffer()))
    bar.update(`${i + 1}/${files.length} files`, (i + 1) / files.length)
  }
  bar.done(`${files.length} files copied`)
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ created: new Date().toISOString(), source: url, media: true, mediaFiles: files.length }, null, 2))
  out(`backup of ${url} (database and ${files.length} media files) written to ${outDir}`)
}

export const backupCommand: Command = {
  name: 'backup',
  summary: 'write a consistent backup of a data dir (or of a running server with --url) to a folder',
  maxArguments: 1,
  usage: 'tessera backup OUT_DIR [--home DIR] [--media-dir DIR | --media-store s3://bucket/prefix] | tessera backup OUT_DIR --url http://host:8080 [--token ADMIN_TOKEN]',
  options: { ...DATA_DIR_OPTIONS, url: { type: 'string' }, token: { type: 'string' } },
  help: `OUT_DIR gets pgdata.tar.gz (the database), media/ (stored media files) and manifest.json. A data dir must not
be open elsewhere; a running server is backed up over HTTP with an admin token (consistent: the dump is one
transaction). Restore with 'tessera restore OUT_DIR --home NEW_DIR'. Media files are copied from where they are
(--media-dir / TESSERA_MEDIA_DIR, else <home>/media); media in a bucket (--media-store s3://...) are not copied:
the backup says so, back the bucket up with its own tools. A PostgreSQL database (--database) is backed up with
pg_dump, not here.

options:
  -d, --home DIR     the data dir to back up
${STORE_HELP}
  --url URL          a running server instead (default $TESSERA_URL)
  --token T          an admin token for it (default $TESSERA_TOKEN)

examples:
  tessera backup ./backups/2026-12-02 --home ./data
  tessera backup /mnt/backups/nightly --url http://127.0.0.1:8080 --token $ADMIN_TOKEN`,
  async run(values, positionals) {
    const outDir = positionals[0]
    if (!outDir) throw new UsageError('name the folder to write the backup to')
    if (existsSync(join(outDir, 'pgdata.tar.gz'))) throw new UsageError(`${outDir} already holds a backup; choose an empty folder`)
    const url = remoteUrl(values)
    if (url === undefined && storeOptions(values).database) {
      throw new CliError('backup dumps a data dir\'s embedded database; this one is a PostgreSQL server (--database or TESSERA_DATABASE_URL): back it up with pg_dump (or the server\'s own backups) and copy its media folder')
    }
    if (url !== undefined) {
      mkdirSync(outDir, { recursive: true })
      return backupServer(url, serverToken(values), outDir)
    }
    const db = await openHome(values, 'tessera backup', { mustExist: true })
    mkdirSync(outDir, { recursive: true })
    const steps = ticker(`backup ${db.home}`)
    try {
      steps.step('dumping the database')
      const driver = db.driver as unknown as { dump?(): Promise<Blob> }
      if (typeof driver.dump !== 'function') throw new CliError('this store cannot dump itself: back a PostgreSQL database up with pg_dump')
      const dump = await driver.dump()
      writeFileSync(join(outDir, 'pgdata.tar.gz'), new Uint8Array(await dump.arrayBuffer()))
      steps.step('copying media files')
      const media = await copyMedia(db, join(outDir, 'media'))
      const tables = await db.listTables('', { recursive: true })
      const manifestMedia = media.copied
        ? { media: true, mediaFiles: media.files, mediaFrom: media.from }
        : { media: false, mediaFiles: 0, mediaStore: media.from, mediaNote: 'media are in an object store and not in this backup: back the bucket up with its own tools' }
      writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ created: new Date().toISOString(), source: db.home, tables, ...manifestMedia }, null, 2))
      steps.stop('done')
      if (!media.copied) err(`warning: media files are in ${media.from}, not in a folder: they are NOT in this backup; back that bucket up with its own tools`)
      out(`backup of ${db.home} (${tables.length} tables, ${media.copied ? `${media.files} media files from ${media.from}` : `no media files: they stay in ${media.from}`}) written to ${outDir}`)
      return 0
    } finally {
      await db.close()
    }
  },
}

/**
 * Copies the media store's files (content-addressed: <2 hex>/<sha256>.<ext>) from where they are: <home>/media,
 * --media-dir, or a --media-store folder. A bucket is not copied: `copied` false and `from` names it.
 */
async function copyMedia(db: Tessera, to: string): Promise<{ copied: boolean; files: number; from: string }> {
  const store = db.media.store as { dir?: string; refPrefix: string; list(): AsyncIterable<{ ref: string }> }
  if (typeof store.dir !== 'string') return { copied: false, files: 0, from: store.refPrefix }
  let files = 0
  for await (const { ref } of store.list()) {
    const key = ref.slice(ref.indexOf('://') + 3)
    mkdirSync(join(to, key.slice(0, 2)), { recursive: true })
    copyFileSync(join(store.dir, key.slice(0, 2), key), join(to, key.slice(0, 2), key))
    files++
  }
  return { copied: true, files, from: store.dir }
}
