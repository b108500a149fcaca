// One side of bench/frames.ts in its own process: extracts frames at `fps` and prints peak RSS growth as JSON.
//   streaming: frame_iterator as it is; unstored: frame_iterator with stored: false;
//   buffered: the previous implementation (collect all of ffmpeg's output, split at IEND, store each).
import { statSync } from 'node:fs'
import { getIterator } from '../../src/iterators/index.ts'
import { createMediaEnv, findTool, registerMediaEnv, resolveMedia, runTool } from '../../src/media/index.ts'

const [side, video, fpsArg, mediaDir] = process.argv.slice(2) as [string, string, string, string]
const fps = Number(fpsArg)
const env = createMediaEnv(mediaDir)
registerMediaEnv(env)
Bun.gc(true)
const base = process.memoryUsage().rss
let peak = base
const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 10)
const t0 = performance.now()
let frames = 0
let pngBytes = 0

function splitPngs(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let start = 0
  for (let i = 0; i + 8 <= b.length; i++) {
    if (b[i] === 0x49 && b[i + 1] === 0x45 && b[i + 2] === 0x4e && b[i + 3] === 0x44) {
      out.push(b.subarray(start, i + 8))
      start = i + 8
      i += 7
    }
  }
  return out
}

if (side === 'buffered') {
  const all = await runTool(findTool('ffmpeg')!, ['-v', 'error', '-i', video, '-vf', `fps=${fps}`, '-f', 'image2pipe', '-vcodec', 'png', '-'])
  for (const png of splitPngs(all)) {
    await env.store.put(png, 'png')
    frames++
    pngBytes += png.length
    peak = Math.max(peak, process.memoryUsage().rss)
  }
} else {
  for await (const r of getIterator('frame_iterator').run(video, side === 'unstored' ? { fps, stored: false } : { fps })) {
    frames++
    if (r.frame) pngBytes += statSync(await resolveMedia(r.frame as string, env)).size
    peak = Math.max(peak, process.memoryUsage().rss)
  }
}
clearInterval(timer)
console.log(JSON.stringify({ frames, pngMB: pngBytes / 2 ** 20, growthMB: (peak - base) / 2 ** 20, seconds: (performance.now() - t0) / 1000 }))
