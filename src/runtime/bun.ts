import { dlopen, FFIType } from 'bun:ffi'
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs'
import { describeHolder } from './lock-file.ts'
import { internalError } from './serve-error.ts'
import type { FileLock, LockHolder, RunningServer, Runtime, ServeOptions } from './types.ts'

const LOCK_EX = 2
const LOCK_NB = 4
const LOCK_UN = 8

let libc: { symbols: { flock: (fd: number, op: number) => number } } | undefined

function flock(fd: number, op: number): number {
  libc ??= dlopen(process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6', {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  })
  return libc.symbols.flock(fd, op)
}

export const bunRuntime: Runtime = {
  name: 'bun',

  async tryLock(path: string, holder: LockHolder): Promise<FileLock | undefined> {
    const fd = openSync(path, 'a+')
    if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd)
      return undefined
    }
    ftruncateSync(fd, 0)
    writeSync(fd, describeHolder(holder), 0)
    let released = false
    return {
      path,
      async release() {
        if (released) return
        released = true
        ftruncateSync(fd, 0)
        flock(fd, LOCK_UN)
        closeSync(fd)
      },
    }
  },

  async serve(fetch, options: ServeOptions): Promise<RunningServer> {
    const server = Bun.serve({
      fetch, port: options.port, hostname: options.hostname, idleTimeout: 120,
      // Never Bun's development error page (HTML with source and the server's paths): whatever escapes the app is
      // answered as the API answers a bug, and logged.
      development: false,
      error: (e) => internalError(e),
    })
    return {
      port: server.port ?? options.port,
      hostname: options.hostname,
      async stop() {
        await server.stop(false)
      },
    }
  },
}
