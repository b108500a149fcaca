import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findTool } from '../../src/media/index.ts'
import { probeAudio } from '../../src/media/audio-probe.ts'
import { tempDir } from '../support/db.ts'

// Validating a non-WAV audio file ran ffprobe twice: once for its streams and declared duration, then again for the
// packets near that end (truncation). One run now answers both: it seeks past any end, so it reads only the last
// packets. The answers are the same: a whole file is taken with its duration, a cut one refused as truncated.

setDefaultTimeout(60_000)

const ffmpeg = findTool('ffmpeg')
const ffprobe = findTool('ffprobe')
const dir = tempDir('tessera-audio-probe-')

describe.skipIf(!ffmpeg || !ffprobe)('probeAudio (skipped where ffmpeg or ffprobe is not installed)', () => {
  test('one ffprobe run per file, whole or cut short', async () => {
    const calls = join(dir, 'calls.log')
    const counting = join(dir, 'ffprobe-counting')
    writeFileSync(counting, `#!/bin/sh\necho run >> '${calls}'\nexec '${ffprobe}' "$@"\n`)
    chmodSync(counting, 0o755)
    const runs = () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length

    for (const [ext, codec] of [['mp3', 'libmp3lame'], ['flac', 'flac']] as const) {
      const whole = join(dir, `tone.${ext}`)
      const r = spawnSync(ffmpeg!, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=6', '-c:a', codec, whole])
      expect(r.status).toBe(0)
      writeFileSync(calls, '')
      const probed = await probeAudio(counting, whole)
      expect(probed.durationSec).toBeGreaterThan(5.9)
      expect(runs()).toBe(1)

      const cut = join(dir, `cut.${ext}`)
      const bytes = readFileSync(whole)
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.3)))
      writeFileSync(calls, '')
      const e = await probeAudio(counting, cut).then(() => undefined, (x: Error & { code?: string }) => x)
      expect(e?.code).toBe('INVALID_MEDIA')
      expect(e?.message).toMatch(/^truncated: its header declares 6\.\d\d s, the file holds audio up to [0-2]\.\d\d s$/)
      expect(runs()).toBe(1)
    }
  })
})
