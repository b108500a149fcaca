import { Tessera } from '../../catalog/index.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'
import { mediaStoreOptions, MEDIA_STORE_OPTIONS } from './gc.ts'

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify a data dir: catalog, versions, data tables, row versions, keys (exit 1 on problems)',
  usage: 'tessera check [--home DIR] [--media-dir DIR | --media-store s3://bucket/prefix]',
  options: { ...HOME_OPTION, ...MEDIA_STORE_OPTIONS },
  async run(values) {
    const db = await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), ...mediaStoreOptions(values), command: 'tessera check' })
    try {
      const { tables, problems, media } = await db.check()
      for (const p of problems) err(`${p.table}: ${p.problem}`)
      out(`media: ${media.files} files, ${media.orphans} orphans (${(media.orphanBytes / 1048576).toFixed(1)} MB; \`tessera gc\` deletes them), ${media.missing.length} missing${media.recent ? `, ${media.recent} unreferenced files younger than an hour (writes may be under way)` : ''}`)
      out(problems.length === 0 ? `ok: ${tables} tables consistent` : `${problems.length} problems in ${tables} tables`)
      return problems.length === 0 ? 0 : 1
    } finally {
      await db.close()
    }
  },
}
