import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { TesseraError } from '../errors.ts'
import { resolveMedia } from './env.ts'

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
export async function runTool(path: string, args: readonly string[]): Promise<Uint8Array> {
  return (await runToolWithLog(path, args)).stdout
}

/** runTool, also answering the tail of stderr of a run that succeeded (ffprobe's warnings say how sure it is). */
export function runToolWithLog(path: string, args: readonly string[]): Promise<{ stdout: Uint8Array; log: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    p.stdout.on('data', (d: Buffer) => out.push(d))
    p.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000) })
    p.on('error', reject)
    p.on('close', (code) => {
      if (code === 0) resolve({ stdout: new Uint8Array(Buffer.concat(out)), log: err })
      else reject(new Error(`${path} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}

/** A running tool whose stdout is read as a stream (with backpressure: the tool waits while the reader does). */
export interface ToolStream {
  readonly stdout: AsyncIterable<Uint8Array>
  /** Resolves when the tool exited with 0; rejects with the tail of its stderr otherwise. */
  readonly done: Promise<void>
  /** Stops the tool (a reader that has what it needs, or gave up). */
  kill(): void
}

/**
 * Starts a tool and hands its stdout over as it comes, so memory stays bounded by what the reader holds (video
 * frames, audio). Each stderr line goes to `onStderrLine` (ffmpeg's showinfo filter reports frame timestamps there);
 * lines it does not claim (returns false) are kept, the last few, for the error message.
 */
export function streamTool(path: string, args: readonly string[], options: { onStderrLine?: (line: string) => boolean } = {}): ToolStream {
  const p = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  let partial = ''
  let killed = false
  p.stderr.setEncoding('utf8')
  p.stderr.on('data', (d: string) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (options.onStderrLine?.(line)) continue
      err = (err + line + '\n').slice(-4000)
    }
  })
  const done = new Promise<void>((resolve, reject) => {
    p.on('error', reject)
    p.on('close', (code, signal) => {
      if (partial && !options.onStderrLine?.(partial)) err += partial
      if (code === 0 || killed) resolve()
      else reject(new Error(`${path} exited with ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
  // A caller that stops early must not leave an unhandled rejection behind.
  done.catch(() => undefined)
  return {
    stdout: p.stdout as AsyncIterable<Uint8Array>,
    done,
    kill() {
      killed = true
      if (p.exitCode === null) p.kill('SIGKILL')
    },
  }
}

/** A frame's time is found again from its timestamp; seek this much earlier so rounding cannot skip it. */
const SEEK_SLACK_SEC = 0.0005

/**
 * One frame of a video as a PNG, found by the timestamp frame_iterator reported for it (what unstored frames are
 * read with): ffmpeg seeks to the key frame before it and decodes up to it.
 */
export async function videoFrameAt(ref: string, posMsec: number): Promise<Uint8Array> {
  const ffmpeg = requireTool('ffmpeg', 'video_frame (reading a frame from a video)')
  const file = await resolveMedia(ref)
  const at = Math.max(0, posMsec / 1000 - SEEK_SLACK_SEC)
  const png = await runTool(ffmpeg, ['-v', 'error', '-ss', at.toFixed(6), '-i', file, '-map', '0:v:0', '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'])
  if (png.length === 0) throw new Error(`${ref} has no frame at ${posMsec} ms`)
  return png
}
