import { invalid } from '../errors.ts'
import { runToolWithLog } from './ffmpeg.ts'

// What an audio file holds, as ffprobe reads it: a container's magic bytes say nothing of its streams (an mp4 of
// video alone passed as audio) nor of its length (an mp3 cut short passed), and every later reader (audio_splitter,
// previews) then failed with a misleading message. Validation on write asks ffprobe when it is installed.

/**
 * How short of its declared duration a file's last audio packet may end and still count as whole (rounding, a last
 * packet's padding). A duration ffprobe only estimates from the bitrate (an mp3 without a Xing/Info header, whose
 * first frames may be far from its average: 5.7 s said of a VBR file of 4 s) is no measure: no check then.
 */
const SHORT_FRACTION = 0.1
const SHORT_SEC = 0.5

/**
 * Where ffprobe is asked to seek for the packets (seconds): past the end of any audio, so that it lands on the last
 * seek point and reads only the packets from there to the end (the rest of the file is not read). One run then says
 * both what the file declares and where its audio really ends; seeking to the declared duration less a margin took a
 * second run, since the duration is only known from the first.
 */
const PAST_END_SEC = 1e9

export interface ProbedAudio {
  readonly codec?: string
  /** The duration the file declares (left out where ffprobe only estimates it from the bitrate). */
  readonly durationSec?: number
}

interface ProbeJson {
  streams?: { codec_name?: string; duration?: string; start_time?: string }[]
  format?: { duration?: string; start_time?: string }
  packets?: { pts_time?: string; duration_time?: string }[]
}

const seconds = (s: string | undefined): number | undefined => {
  const n = s === undefined ? NaN : Number(s)
  return Number.isFinite(n) ? n : undefined
}

/** Refuses a file with no audio stream, one ffprobe cannot read, or one whose audio ends well before its header says. */
export async function probeAudio(ffprobe: string, file: string): Promise<ProbedAudio> {
  let j: ProbeJson
  let estimated: boolean
  try {
    const { stdout, log } = await runToolWithLog(ffprobe, [
      '-v', 'warning', '-select_streams', 'a:0', '-read_intervals', `${PAST_END_SEC}%`,
      '-show_entries', 'stream=codec_name,duration,start_time:format=duration,start_time:packet=pts_time,duration_time', '-of', 'json', file,
    ])
    j = JSON.parse(new TextDecoder().decode(stdout)) as ProbeJson
    estimated = /estimating duration from bitrate/i.test(log)
  } catch (e) {
    throw invalid('INVALID_MEDIA', `ffprobe cannot read it (${(e as Error).message})`)
  }
  const stream = j.streams?.[0]
  if (!stream) throw invalid('INVALID_MEDIA', 'ffprobe finds no audio stream in it')
  const declared = seconds(stream.duration) ?? seconds(j.format?.duration)
  const start = seconds(stream.start_time) ?? seconds(j.format?.start_time) ?? 0
  if (declared !== undefined && declared > 0 && !estimated) {
    const end = audioEnd(j.packets ?? [])
    if (end === undefined || end - start < declared * (1 - SHORT_FRACTION) - SHORT_SEC) {
      const heard = end === undefined ? 'no audio packet near its end' : `audio up to ${(end - start).toFixed(2)} s`
      throw invalid('INVALID_MEDIA', `truncated: its header declares ${declared.toFixed(2)} s, the file holds ${heard}`)
    }
  }
  return { ...(stream.codec_name ? { codec: stream.codec_name } : {}), ...(declared !== undefined && !estimated ? { durationSec: declared } : {}) }
}

/** Where the last of the packets read ends (undefined when there are none). */
function audioEnd(packets: readonly { pts_time?: string; duration_time?: string }[]): number | undefined {
  let end: number | undefined
  for (const p of packets) {
    const pts = seconds(p.pts_time)
    if (pts === undefined) continue
    end = Math.max(end ?? -Infinity, pts + (seconds(p.duration_time) ?? 0))
  }
  return end
}
