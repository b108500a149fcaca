import { connect } from '../../client/index.ts'
import { parseScope, TokenStore } from '../../server/index.ts'
import type { Command } from '../command.ts'
import { err, JSON_OPTION, out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { printJson, printRows } from '../format.ts'
import { openHome, remoteUrl, serverToken } from '../target.ts'

interface TokenRow {
  readonly name: string
  readonly admin: boolean
  readonly scopes: readonly { readonly prefix: string; readonly access: string }[]
  readonly revoked?: boolean
}

/** Token administration on a stopped data dir (TokenStore) or a running server (the /api/v1/tokens routes). */
interface Tokens {
  create(name: string, admin: boolean, scopes: string[]): Promise<string>
  list(): Promise<TokenRow[]>
  revoke(name: string): Promise<void>
  close(): Promise<void>
}

async function openTokens(values: Parameters<Command['run']>[0], mustExist: boolean): Promise<Tokens> {
  const url = remoteUrl(values)
  if (url !== undefined) {
    const token = serverToken(values)
    const http = connect(url, token ? { token } : {}).http
    return {
      create: async (name, admin, scopes) => (await http.request<{ token: string }>('POST', '/api/v1/tokens', { name, admin, scopes: scopes.map(parseScope) })).token,
      list: async () => (await http.request<{ tokens: TokenRow[] }>('GET', '/api/v1/tokens')).tokens,
      revoke: async (name) => void (await http.request('DELETE', `/api/v1/tokens/${encodeURIComponent(name)}`)),
      close: async () => {},
    }
  }
  const db = await openHome(values, 'tessera token', { mustExist })
  const store = new TokenStore(db.driver)
  return {
    create: (name, admin, scopes) => store.create(name, { admin, scopes: scopes.map(parseScope) }),
    list: () => store.list(),
    revoke: (name) => store.revoke(name),
    close: () => db.close(),
  }
}

export const tokenCommand: Command = {
  name: 'token',
  summary: 'create, list or revoke API tokens (on a data dir, or on a running server with --url and an admin token)',
  usage: 'tessera token create NAME [--admin] [--scope PREFIX:read|write ...] | token list [--json] | token revoke NAME   [--home DIR | --url URL --token ADMIN_TOKEN]',
  options: { ...TARGET_OPTIONS, ...JSON_OPTION, admin: { type: 'boolean' }, scope: { type: 'string', multiple: true } },
  help: `The new token is printed once (only its SHA-256 is stored). A scope 'user_1:write' gives read and write access
to user_1/...; ':read' to everything, read-only.

options:
  --admin            the token may do everything, including token administration
  --scope P:A        a dir prefix and read|write (repeatable)
  --json             token list as JSON
${TARGET_HELP}

examples:
  tessera token create admin --admin
  tessera token create alice --scope user_alice:write
  tessera token list --url http://127.0.0.1:8080 --token $ADMIN_TOKEN
  tessera token revoke alice`,
  async run(values, positionals) {
    const [action, name] = positionals
    const valid = (action === 'create' || action === 'revoke') ? !!name : action === 'list'
    if (!valid) throw new UsageError('expected: token create NAME, token list, or token revoke NAME')
    const scopes = (values.scope as string[] | undefined) ?? []
    const tokens = await openTokens(values, action !== 'create')
    try {
      if (action === 'create') {
        out(await tokens.create(name!, values.admin === true, scopes))
        err(`token '${name}' created; it is shown only now`)
      } else if (action === 'list') {
        const list = await tokens.list()
        if (values.json) printJson(list)
        else printRows(list.map((t) => ({ name: t.name, access: t.admin ? 'admin' : t.scopes.map((s) => `${s.prefix || '/'}:${s.access}`).join(','), state: t.revoked ? 'revoked' : 'active' })), ['name', 'access', 'state'])
      } else {
        await tokens.revoke(name!)
        out(`revoked ${name}`)
      }
      return 0
    } finally {
      await tokens.close()
    }
  },
}
