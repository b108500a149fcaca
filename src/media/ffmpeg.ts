import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { TesseraError } from '../errors.ts'

// ffmpeg/ffprobe are optional system tools: video frames and non-WAV audio need them, everything else works
// without. Looked up on PATH (or TESSERA_FFMPEG / TESSERA_FFPROBE) once per process.

const found = new Map<string, string | null>()

export function findTool(name: 'ffmpeg' | 'ffprobe'): string | undefined {
  if (!found.has(name)) {
    const override = process.env[`TESSERA_${name.toUpperCase()}`]
    let hit: string | null = null
    for (const dir of override ? [] : (process.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue
      try {
        accessSync(join(dir, name), constants.X_OK)
        hit = join(dir, name)
        break
      } catch { /* keep looking */ }
    }
    found.set(name, override || hit)
  }
  return found.get(name) ?? undefined
}

/** Throws UNAVAILABLE naming the tool and what needs it. */
export function requireTool(name: 'ffmpeg' | 'ffprobe', purpose: string): string {
  const path = findTool(name)
  if (!path) {
    throw new TesseraError('UNAVAILABLE', `${purpose} needs ${name}, which is not installed (not on PATH); install it (e.g. apt-get install ffmpeg) or set TESSERA_${name.toUpperCase()}`, { tool: name })
  }
  return path
}

/** Runs a tool, collecting stdout as bytes; rejects with its stderr on a non-zero exit. */
export function runTool(path: string, args: readonly string[]): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const p = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    p.stdout.on('data', (d: Buffer) => out.push(d))
    p.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000) })
    p.on('error', reject)
    p.on('close', (code) => {
      if (code === 0) resolve(new Uint8Array(Buffer.concat(out)))
      else reject(new Error(`${path} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}
