import { describeHolder } from './lock-file.ts'
import { internalError } from './serve-error.ts'
import type { FileLock, LockHolder, RunningServer, Runtime, ServeOptions } from './types.ts'

// Only the Deno calls this adapter makes (the rest of the code base never sees the Deno global).
interface DenoFsFile {
  tryLock(exclusive?: boolean): Promise<boolean>
  unlock(): Promise<void>
  truncate(len?: number): Promise<void>
  write(p: Uint8Array): Promise<number>
  close(): void
}
interface DenoServer {
  finished: Promise<void>
  shutdown(): Promise<void>
  addr: { port: number }
}
declare const Deno: {
  open(path: string, options: { read?: boolean; write?: boolean; create?: boolean }): Promise<DenoFsFile>
  serve(options: { port: number; hostname: string; onListen?: () => void; onError?: (e: unknown) => Response | Promise<Response> }, handler: (req: Request) => Response | Promise<Response>): DenoServer
}

export const denoRuntime: Runtime = {
  name: 'deno',

  async tryLock(path: string, holder: LockHolder): Promise<FileLock | undefined> {
    const file = await Deno.open(path, { read: true, write: true, create: true })
    if (!(await file.tryLock(true))) {
      file.close()
      return undefined
    }
    await file.truncate(0)
    await file.write(new TextEncoder().encode(describeHolder(holder)))
    let released = false
    return {
      path,
      async release() {
        if (released) return
        released = true
        await file.truncate(0)
        await file.unlock()
        file.close()
      },
    }
  },

  async serve(fetch, options: ServeOptions): Promise<RunningServer> {
    const server = Deno.serve({ port: options.port, hostname: options.hostname, onListen: () => {}, onError: internalError }, fetch)
    return {
      port: server.addr.port,
      hostname: options.hostname,
      async stop() {
        await server.shutdown()
      },
    }
  },
}
