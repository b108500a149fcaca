import { currentMediaEnv, requireTool, resolveMedia, runTool } from '../media/index.ts'
import type { IteratorRow } from './registry.ts'
import { optionError, registerIterator } from './registry.ts'

// frame_iterator: a video into frames via ffmpeg (a system tool; a clear UNAVAILABLE error when it is missing).
// fps samples at a rate; numFrames picks that many frames evenly over the duration. Frames are stored as PNGs.

export interface FrameOptions {
  readonly fps?: number
  readonly numFrames?: number
}

export const frameIterator = registerIterator<FrameOptions>({
  name: 'frame_iterator',
  input: 'video',
  outputs: { frame: 'image', frame_idx: 'int', pos_msec: 'float' },
  async *run(input, options = {}): AsyncIterable<IteratorRow> {
    if (typeof input !== 'string') throw optionError('frame_iterator', `input must be a video reference, got ${typeof input}`)
    if (options.fps !== undefined && options.numFrames !== undefined) throw optionError('frame_iterator', 'give fps or numFrames, not both')
    const ffmpeg = requireTool('ffmpeg', 'frame_iterator (video frames)')
    const file = await resolveMedia(input)
    let fps = options.fps
    if (options.numFrames !== undefined) {
      const ffprobe = requireTool('ffprobe', 'frame_iterator numFrames (the video duration)')
      const dur = Number(new TextDecoder().decode(await runTool(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file])).trim())
      if (!(dur > 0)) throw optionError('frame_iterator', `cannot read the duration of ${input}`)
      fps = options.numFrames / dur
    }
    const args = ['-v', 'error', '-i', file, ...(fps ? ['-vf', `fps=${fps}`] : []), '-f', 'image2pipe', '-vcodec', 'png', '-']
    const pngs = splitPngs(await runTool(ffmpeg, args))
    const store = currentMediaEnv().store
    const limit = options.numFrames ?? Infinity
    for (let i = 0; i < pngs.length && i < limit; i++) {
      yield { pos: i, frame: await store.put(pngs[i]!, 'png'), frame_idx: i, pos_msec: fps ? (i * 1000) / fps : null }
    }
  },
})

/** Splits concatenated PNG files (ffmpeg image2pipe) at each IEND chunk. */
export function splitPngs(b: Uint8Array): Uint8Array[] {
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
