import { currentMediaEnv, requireTool, resolveMedia, runTool, streamTool } from '../media/index.ts'
import { splitPngStream } from './png-stream.ts'
import type { IteratorRow, OnReadColumn } from './registry.ts'
import { optionError, registerIterator } from './registry.ts'
import { boolean, positiveInt, positiveNumber, readOptions } from './options.ts'

// frame_iterator: a video into frames via ffmpeg (a system tool; a clear UNAVAILABLE error when it is missing).
// fps samples at a rate; numFrames picks that many frames evenly over the duration; keyframesOnly takes the key
// frames as they are. Frames are real frames of the video (never duplicated or blended), with their own timestamp.
//
// Memory stays bounded whatever the video's length: ffmpeg's PNGs are read as a stream and written to the media
// store one at a time. With stored: false no image is made at all: the view keeps frame_idx and pos_msec, and its
// `frame` column is computed when read (video_frame(video, pos_msec)), as Pixeltable's unstored frame columns are.

export interface FrameOptions {
  /** Frames per second to sample (at most the video's own rate: a slower video gives each of its frames once). */
  readonly fps?: number
  /** This many frames, evenly over the duration. */
  readonly numFrames?: number
  /** Only the key frames (I-frames): fast, since nothing else is decoded. Not combined with fps or numFrames. */
  readonly keyframesOnly?: boolean
  /** false: frames are not stored; the view's `frame` column is extracted from the video when read (default true). */
  readonly stored?: boolean
}

const NAME = 'frame_iterator'
const RULES = { fps: positiveNumber, numFrames: positiveInt, keyframesOnly: boolean, stored: boolean }

/** Types and ranges, then the sampling modes, which are exclusive. */
export function checkFrameOptions(options: unknown): void {
  const { fps, numFrames, keyframesOnly } = readOptions<FrameOptions>(NAME, options, RULES)
  if (fps !== undefined && numFrames !== undefined) throw optionError(NAME, 'give fps or numFrames, not both')
  if (keyframesOnly && (fps !== undefined || numFrames !== undefined)) throw optionError(NAME, 'keyframesOnly takes the key frames as they are; it cannot be combined with fps or numFrames')
}

export const frameIterator = registerIterator<FrameOptions>({
  name: NAME,
  input: 'video',
  outputs: { frame: 'image', frame_idx: 'int', pos_msec: 'float' },
  options: Object.keys(RULES),
  check: checkFrameOptions,
  onRead: (options): Record<string, OnReadColumn> => (options?.stored === false ? { frame: { type: 'image', fn: 'video_frame', args: ['input', 'pos_msec'] } } : {}),
  async *run(input, options = {}): AsyncIterable<IteratorRow> {
    if (typeof input !== 'string') throw optionError(NAME, `input must be a video reference, got ${typeof input}`)
    const { fps, numFrames, keyframesOnly = false, stored = true } = options
    const ffmpeg = requireTool('ffmpeg', 'frame_iterator (video frames)')
    const file = await resolveMedia(input)
    let step: number | undefined = fps === undefined ? undefined : 1 / fps
    if (numFrames !== undefined) step = (await videoDuration(file, input)) / numFrames

    // select keeps the first real frame at or after each sampling point (k * step); showinfo reports the kept
    // frames' timestamps on stderr, which is how pos_msec is exact for every mode.
    const filters = [...(step !== undefined ? [`select='gte(t\\,selected_n*${step.toFixed(9)}-0.000001)'`] : []), 'showinfo']
    const times = new Queue<number>()
    let timeBase: [number, number] | undefined
    const tool = streamTool(ffmpeg, [
      '-hide_banner', '-nostats', '-loglevel', 'info',
      ...(keyframesOnly ? ['-skip_frame', 'nokey'] : []),
      '-i', file, '-map', '0:v:0', '-an', '-vf', filters.join(','), '-fps_mode', 'passthrough',
      ...(stored ? ['-f', 'image2pipe', '-vcodec', 'png', '-'] : ['-f', 'null', '-']),
    ], {
      onStderrLine(line) {
        if (!line.includes('Parsed_showinfo')) return false
        const tb = /config in time_base:\s*(\d+)\/(\d+)/.exec(line)
        if (tb) timeBase = [Number(tb[1]), Number(tb[2])]
        const pts = /\bpts:\s*(-?\d+)/.exec(line)
        if (pts && timeBase) times.push((Number(pts[1]) * timeBase[0] * 1000) / timeBase[1])
        else if (pts) {
          // No time base reported (another ffmpeg version): its rounded pts_time is the next best thing.
          const t = /pts_time:\s*(-?[\d.]+)/.exec(line)
          if (t) times.push(Number(t[1]) * 1000)
        }
        return true
      },
    })
    tool.done.then(() => times.end(), (e) => times.fail(e))
    const limit = numFrames ?? Infinity
    let pos = 0
    try {
      if (!stored) {
        for (let t = await times.next(); t !== undefined && pos < limit; t = await times.next()) yield { pos, frame_idx: pos++, pos_msec: t }
      } else {
        const store = currentMediaEnv().store
        for await (const png of splitPngStream(tool.stdout)) {
          if (pos >= limit) break
          const t = await times.next()
          yield { pos, frame: await store.put(png, 'png'), frame_idx: pos++, pos_msec: t ?? null }
        }
      }
      if (pos < limit) await tool.done
    } catch (e) {
      // The tool's own error (a file that is not a video) says more than a broken pipe: done rejects with it when
      // the tool had failed; otherwise it resolves once the kill lands, and the reader's error stands.
      tool.kill()
      await tool.done
      throw e
    } finally {
      tool.kill()
    }
  },
})

async function videoDuration(file: string, input: string): Promise<number> {
  const ffprobe = requireTool('ffprobe', 'frame_iterator numFrames (the video duration)')
  const dur = Number(new TextDecoder().decode(await runTool(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file])).trim())
  if (!(dur > 0)) throw optionError(NAME, `cannot read the duration of ${input}`)
  return dur
}

/** A first-in first-out queue a consumer awaits (timestamps arrive on stderr, frames on stdout). */
class Queue<T> {
  readonly #items: T[] = []
  #head = 0
  #ended = false
  #error: unknown
  #waiter: (() => void) | undefined

  push(x: T): void {
    this.#items.push(x)
    this.#wake()
  }

  end(): void {
    this.#ended = true
    this.#wake()
  }

  fail(e: unknown): void {
    this.#error = e
    this.end()
  }

  async next(): Promise<T | undefined> {
    while (this.#head >= this.#items.length) {
      if (this.#error) throw this.#error
      if (this.#ended) return undefined
      await new Promise<void>((resolve) => (this.#waiter = resolve))
    }
    const x = this.#items[this.#head++]!
    // Drop what was read now and then, so a long video does not keep every timestamp.
    if (this.#head > 1024) this.#items.splice(0, this.#head), (this.#head = 0)
    return x
  }

  #wake(): void {
    const w = this.#waiter
    this.#waiter = undefined
    w?.()
  }
}
