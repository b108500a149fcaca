import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { createServer } from 'node:http'
import { describeHolder, isAlive, readHolder } from './lock-file.ts'
import type { FileLock, LockHolder, RunningServer, Runtime, ServeOptions } from './types.ts'

// Node has no flock binding. The fallback is an exclusive-create pid file whose holder is checked for liveness:
// good enough for the library under Node; the server runs on Bun or Deno, which take a real kernel lock.

export const nodeRuntime: Runtime = {
  name: 'node',

  async tryLock(path: string, holder: LockHolder): Promise<FileLock | undefined> {
    const pidPath = `${path}.pid`
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(pidPath, 'wx')
        writeSync(fd, describeHolder(holder))
        closeSync(fd)
        return { path: pidPath, async release() { try { unlinkSync(pidPath) } catch { /* already gone */ } } }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        const current = readHolder(pidPath)
        if (current && isAlive(current.pid)) return undefined
        try { unlinkSync(pidPath) } catch { /* raced with another remover */ }
      }
    }
    return undefined
  },

  async serve(fetch, options: ServeOptions): Promise<RunningServer> {
    const server = createServer(async (req, res) => {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await new Response(req as unknown as ReadableStream).arrayBuffer()
      const headers = new Headers()
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
      const response = await fetch(new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: req.method, headers, body }))
      res.writeHead(response.status, Object.fromEntries(response.headers))
      res.end(Buffer.from(await response.arrayBuffer()))
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
