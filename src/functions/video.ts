import { clearStoreRefs, currentMediaEnv, videoFrameAt } from '../media/index.ts'
import { expectKinds, scalar, t } from '../query/index.ts'

// video_frame(video, pos_msec): the frame shown at a timestamp, as an image in the media store (content-addressed,
// so reading the same frame again is the same file). Views made with frame_iterator({ stored: false }) compute their
// `frame` column with it when read.

scalar({
  name: 'video_frame', minArgs: 2, maxArgs: 2,
  returnType: (types, node) => (expectKinds(node, types, 0, ['video', 'string']), expectKinds(node, types, 1, ['float', 'int']), t('image', true)),
  evalBatch: async ([videos, times]) => {
    const out: unknown[] = []
    // One ffmpeg at a time: a batch of frames must not start a process per row at once.
    for (let i = 0; i < videos!.length; i++) {
      out.push(await currentMediaEnv().store.put(await videoFrameAt(videos![i] as string, Number(times![i])), 'png'))
    }
    // Frames of a video the caller could read: an outer function may read them back (media/read-gate.ts).
    clearStoreRefs(out)
    return out
  },
})
