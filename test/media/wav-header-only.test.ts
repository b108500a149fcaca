import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkMediaFile } from '../../src/media/index.ts'
import { encodeWav } from '../../src/media/wav.ts'
import { tempDir } from '../support/db.ts'

// A WAV whose header is valid but whose data chunk holds no sample frame (header only, or a declared length the file
// does not have) passed audio validation with a duration of 0 s, and every later reader got nothing to read.
// It is refused naming what is missing. WAV is checked by Tessera's own reader: no ffprobe needed.

const dir = tempDir('tessera-wav-header-')
const file = (name: string, bytes: Uint8Array) => {
  const p = join(dir, name)
  writeFileSync(p, bytes)
  return p
}
const refusal = (p: string) => checkMediaFile('audio', p).then(() => undefined, (e: Error & { code?: string }) => e)

describe('a WAV with no sample frame', () => {
  test('header only (an empty data chunk) is refused, naming the data chunk', async () => {
    const e = await refusal(file('empty.wav', encodeWav([new Float32Array(0)], 8000)))
    expect(e?.code).toBe('INVALID_MEDIA')
    expect(e?.message).toContain('WAV data chunk holds no sample frame')
  })

  test('a data chunk declaring bytes the file lacks (cut right after the header) is refused', async () => {
    const whole = encodeWav([new Float32Array(100)], 8000)
    const e = await refusal(file('cut.wav', whole.subarray(0, 44)))
    expect(e?.code).toBe('INVALID_MEDIA')
    expect(e?.message).toContain('WAV data chunk holds no sample frame')
  })

  test('one frame is taken', async () => {
    const r = await checkMediaFile('audio', file('one.wav', encodeWav([new Float32Array(1)], 8000)))
    expect(r.durationSec).toBeCloseTo(1 / 8000, 9)
  })
})
