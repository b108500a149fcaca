import { Tessera } from '../../catalog/index.ts'
import { parseScope, TokenStore } from '../../server/tokens.ts'
import type { Command } from '../command.ts'
import { err, HOME_OPTION, out } from '../command.ts'

export const tokenCommand: Command = {
  name: 'token',
  summary: 'create, list or revoke API tokens (on a stopped data dir; use the API on a running one)',
  usage: 'tessera token create NAME [--admin] [--scope user_1:write ...] | tessera token list | tessera token revoke NAME   [--home DIR]',
  options: { ...HOME_OPTION, admin: { type: 'boolean' }, scope: { type: 'string', multiple: true } },
  async run(values, positionals) {
    const [action, name] = positionals
    const db = await Tessera.open({ ...(values.home ? { home: String(values.home) } : {}), command: 'tessera token' })
    try {
      const tokens = new TokenStore(db.driver)
      if (action === 'create' && name) {
        const scopes = ((values.scope as string[] | undefined) ?? []).map(parseScope)
        const token = await tokens.create(name, { admin: !!values.admin, scopes })
        out(token)
        err(`token '${name}' created; it is shown only now`)
      } else if (action === 'list') {
        for (const t of await tokens.list()) {
          out(`${t.name}\t${t.admin ? 'admin' : t.scopes.map((s) => `${s.prefix || '/'}:${s.access}`).join(',')}\t${t.revoked ? 'revoked' : 'active'}`)
        }
      } else if (action === 'revoke' && name) {
        await tokens.revoke(name)
        out(`revoked ${name}`)
      } else {
        err(`usage: ${tokenCommand.usage}`)
        return 2
      }
      return 0
    } finally {
      await db.close()
    }
  },
}
