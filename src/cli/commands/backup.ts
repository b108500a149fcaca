import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../client/index.ts'
import { PGliteDriver } from '../../store/index.ts'
import type { Command } from '../command.ts'
import { HOME_OPTION, out, UsageError } from '../command.ts'
import { progressBar, ticker } from '../progress.ts'
import { openHome, serverToken, serverUrl } from '../target.ts'

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
  usage: 'tessera backup OUT_DIR [--home DIR] | tessera backup OUT_DIR --url http://host:8080 [--token ADMIN_TOKEN]',
  options: { ...HOME_OPTION, url: { type: 'string' }, token: { type: 'string' } },
  help: `OUT_DIR gets pgdata.tar.gz (the database), media/ (stored media files) and manifest.json. A data dir must not
be open elsewhere; a running server is backed up over HTTP with an admin token (consistent: the dump is one
transaction). Restore with 'tessera restore OUT_DIR --home NEW_DIR'.

options:
  -d, --home DIR     the data dir to back up
  --url URL          a running server instead (default $TESSERA_URL)
  --token T          an admin token for it (default $TESSERA_TOKEN)

examples:
  tessera backup ./backups/2026-12-02 --home ./data
  tessera backup /mnt/backups/nightly --url http://127.0.0.1:8080 --token $ADMIN_TOKEN`,
  async run(values, positionals) {
    const outDir = positionals[0]
    if (!outDir) throw new UsageError('name the folder to write the backup to')
    if (existsSync(join(outDir, 'pgdata.tar.gz'))) throw new UsageError(`${outDir} already holds a backup; choose an empty folder`)
    const url = serverUrl(values)
    mkdirSync(outDir, { recursive: true })
    if (url !== undefined) return backupServer(url, serverToken(values), outDir)
    const db = await openHome(values, 'tessera backup')
    const steps = ticker(`backup ${db.home}`)
    try {
      steps.step('dumping the database')
      const dump = await (db.driver as PGliteDriver).dump()
      writeFileSync(join(outDir, 'pgdata.tar.gz'), new Uint8Array(await dump.arrayBuffer()))
      const media = join(db.home!, 'media')
      steps.step('copying media files')
      if (existsSync(media)) cpSync(media, join(outDir, 'media'), { recursive: true })
      const tables = await db.listTables('', { recursive: true })
      writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ created: new Date().toISOString(), source: db.home, tables, media: existsSync(media) }, null, 2))
      steps.stop('done')
      out(`backup of ${db.home} (${tables.length} tables) written to ${outDir}`)
      return 0
    } finally {
      await db.close()
    }
  },
}
