import { Hono } from 'hono'
import * as v from 'valibot'
import { CreateTokenRequestSchema } from '../../api/index.ts'
import { requireAdmin } from '../auth.ts'
import type { AuthEnv } from '../auth.ts'
import { readJson } from '../json.ts'
import type { OperationDoc } from '../openapi.ts'
import type { TokenStore } from '../tokens.ts'

export const tokenDocs: OperationDoc[] = [
  { method: 'post', path: '/api/v1/tokens', summary: 'Create an API token (admin); the token is returned only here', tag: 'auth', body: CreateTokenRequestSchema, success: 201 },
  { method: 'get', path: '/api/v1/tokens', summary: 'List tokens (admin)', tag: 'auth' },
  { method: 'delete', path: '/api/v1/tokens/{name}', summary: 'Revoke a token (admin)', tag: 'auth' },
  { method: 'get', path: '/api/v1/whoami', summary: 'The calling principal and its scopes', tag: 'auth' },
]

/** Token administration (admin tokens only). The plain token is in the create response and nowhere else. */
export function tokenRoutes(tokens: TokenStore) {
  const app = new Hono<AuthEnv>()
  app.post('/tokens', async (c) => {
    requireAdmin(c.var.principal)
    const body = await readJson(c, CreateTokenRequestSchema)
    const token = await tokens.create(body.name, { ...(body.admin ? { admin: true } : {}), ...(body.scopes ? { scopes: body.scopes } : {}) })
    return c.json({ name: body.name, token }, 201)
  })
  app.get('/tokens', async (c) => {
    requireAdmin(c.var.principal)
    return c.json({ tokens: await tokens.list() })
  })
  app.delete('/tokens/:name', async (c) => {
    requireAdmin(c.var.principal)
    await tokens.revoke(v.parse(CreateTokenRequestSchema.entries.name, c.req.param('name')))
    return c.json({ revoked: c.req.param('name') })
  })
  app.get('/whoami', (c) => c.json(c.var.principal))
  return app
}
