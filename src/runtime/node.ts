import { createServer } from 'node:http'
import { TesseraError } from '../errors.ts'
import { internalError } from './serve-error.ts'
import type { FileLock, LockHolder, RunningServer, Runtime, ServeOptions } from './types.ts'

// Node has no flock binding without a compiled addon (and Tessera installs none), and a lock that Bun's and Deno's
// flock does not see is worse than none: a Node process once opened a data dir held by a running server, and an
// acknowledged row was lost. So on Node, data dirs are refused; Node programs talk to a server through the HTTP
// client ('tessera/client', built to plain JavaScript by `npm run build:client`).

export const NODE_REFUSAL = 'Tessera opens data dirs only under Bun or Deno: Node cannot take the kernel lock (flock) that ' +
  'Bun and Deno processes hold on <home>/.lock, so a second process could open the same dir and lose rows. From Node, ' +
  "run `tessera serve` and use the HTTP client: import { connect } from 'tessera/client'"

export const nodeRuntime: Runtime = {
  name: 'node',

  async tryLock(path: string, _holder: LockHolder): Promise<FileLock | undefined> {
    throw new TesseraError('UNAVAILABLE', NODE_REFUSAL, { path })
  },

  async serve(fetch, options: ServeOptions): Promise<RunningServer> {
    const server = createServer(async (req, res) => {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await new Response(req as unknown as ReadableStream).arrayBuffer()
      const headers = new Headers()
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: req.method, headers, body })
      const response = await Promise.resolve().then(() => fetch(request)).catch(internalError)
      res.writeHead(response.status, Object.fromEntries(response.headers))
      res.end(new Uint8Array(await response.arrayBuffer()))
    })
    await new Promise<void>((resolve) => server.listen(options.port, options.hostname, resolve))
    const address = server.address()
    return {
      port: typeof address === 'object' && address ? address.port : options.port,
      hostname: options.hostname,
      stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }
  },
}
