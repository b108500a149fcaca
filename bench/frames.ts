// Frame extraction memory: frame_iterator (streams ffmpeg's PNGs and stores them one at a time) against the way it
// worked before (ffmpeg's whole output collected, then split and stored), on the same 2-minute 720p video, in the
// same run, each side in its own process so peak RSS is its own. Prints frames, PNG bytes, peak RSS growth over the
// process's RSS before extraction, the ratio, and the time. Also the unstored mode (stored: false: timestamps only).
//
//   npx bun bench/frames.ts [fps list=2,6] [seconds=120] [video fps=24]

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { findTool, runTool } from '../src/media/index.ts'

const rates = (process.argv[2] ?? '2,6').split(',').map(Number)
const seconds = Number(process.argv[3] ?? 120)
const videoFps = Number(process.argv[4] ?? 24)
const ffmpeg = findTool('ffmpeg')
if (!ffmpeg) {
  console.log('skipped: frame extraction needs ffmpeg (apt-get install ffmpeg)')
  process.exit(0)
}
const work = mkdtempSync(join(tmpdir(), 'tessera-bench-frames-'))
const video = join(work, 'video.mp4')
const CHILD = join(import.meta.dir, 'lib/frames-child.ts')

interface ChildResult { frames: number; pngMB: number; growthMB: number; seconds: number }

function child(side: string, fps: number): ChildResult {
  const r = spawnSync(process.execPath, [CHILD, side, video, String(fps), join(work, `media-${side}-${fps}`)], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`frames child (${side}, fps ${fps}) failed: ${r.stderr || r.stdout}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!)
}

try {
  const t0 = performance.now()
  await runTool(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${videoFps}:duration=${seconds}`, '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', video])
  console.log(`video: ${seconds} s, 1280x720 at ${videoFps} fps, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  console.log('fps  frames  PNG MB | peak RSS growth MB: streaming  buffered (before)  ratio | unstored | time s: streaming  buffered')
  for (const fps of rates) {
    const s = child('streaming', fps)
    const b = child('buffered', fps)
    const u = child('unstored', fps)
    console.log(`${String(fps).padStart(3)}  ${String(s.frames).padStart(6)}  ${s.pngMB.toFixed(0).padStart(6)} | ${s.growthMB.toFixed(1).padStart(27)}  ${b.growthMB.toFixed(1).padStart(17)}  ${(s.growthMB / b.growthMB).toFixed(2).padStart(5)} | ${u.growthMB.toFixed(1).padStart(8)} | ${s.seconds.toFixed(1).padStart(17)}  ${b.seconds.toFixed(1).padStart(8)}`)
  }
  console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
