import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Tessera } from '../../catalog/index.ts'
import { PGliteDriver } from '../../store/pglite/driver.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'

// A backup is a folder: pgdata.tar.gz (PGlite's dump of the database), media/ (uploaded files) and manifest.json.

export const backupCommand: Command = {
  name: 'backup',
  summary: 'write a consistent backup of a data dir (or of a running server with --url) to a folder',
  usage: 'tessera backup OUT_DIR [--home DIR] | tessera backup OUT_DIR --url http://host:8080 [--token T]',
  options: { ...HOME_OPTION, url: { type: 'string' }, token: { type: 'string' } },
  async run(values, positionals) {
    const outDir = positionals[0]
    if (!outDir) {
      err(`usage: ${backupCommand.usage}`)
      return 2
    }
    if (existsSync(join(outDir, 'pgdata.tar.gz'))) {
      err(`${outDir} already holds a backup; choose an empty folder`)
      return 2
    }
    mkdirSync(outDir, { recursive: true })
    if (values.url) {
      const token = String(values.token ?? process.env.TESSERA_TOKEN ?? '')
      const res = await fetch(`${String(values.url).replace(/\/$/, '')}/api/v1/admin/backup`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} })
      if (!res.ok) {
        err(`backup failed: HTTP ${res.status} ${await res.text()}`)
        return 1
      }
      writeFileSync(join(outDir, 'pgdata.tar.gz'), new Uint8Array(await res.arrayBuffer()))
      writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ created: new Date().toISOString(), source: values.url, media: false }, null, 2))
      out(`backup of ${values.url} written to ${outDir} (database only; copy the server's media/ folder separately)`)
      return 0
    }
    const db = await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), command: 'tessera backup' })
    try {
      const dump = await (db.driver as PGliteDriver).dump()
      writeFileSync(join(outDir, 'pgdata.tar.gz'), new Uint8Array(await dump.arrayBuffer()))
      const media = join(db.home!, 'media')
      if (existsSync(media)) cpSync(media, join(outDir, 'media'), { recursive: true })
      const tables = await db.listTables('', { recursive: true })
      writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ created: new Date().toISOString(), source: db.home, tables, media: existsSync(media) }, null, 2))
      out(`backup of ${db.home} (${tables.length} tables) written to ${outDir}`)
      return 0
    } finally {
      await db.close()
    }
  },
}
