// The one shape every runtime adapter exports. Nothing outside src/runtime/ touches Bun.*, Deno.* or bun:ffi.

export interface FileLock {
  readonly path: string
  release(): Promise<void>
}

export interface LockHolder {
  readonly pid: number
  readonly hostname?: string
  readonly since?: string
  readonly command?: string
}

export interface ServeOptions {
  readonly port: number
  readonly hostname: string
}

export interface RunningServer {
  readonly port: number
  readonly hostname: string
  stop(): Promise<void>
}

export interface Runtime {
  readonly name: 'bun' | 'deno' | 'node'
  /**
   * Takes an exclusive kernel advisory lock (flock) on path without waiting. Returns undefined when another process
   * holds it. The kernel drops the lock when the holder dies, so a kill -9 leaves no stale lock behind.
   */
  tryLock(path: string, holder: LockHolder): Promise<FileLock | undefined>
  serve(fetch: (req: Request) => Response | Promise<Response>, options: ServeOptions): Promise<RunningServer>
}
