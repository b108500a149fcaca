import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { TesseraError } from '../errors.ts'
import { getSession, tensor } from '../inference/index.ts'
import { bundledModelFile } from '../runtime/index.ts'

// Silero VAD (v5, shipped inside @ricky0123/vad-web) run with onnxruntime-node: speech probability per 32 ms frame
// of 16 kHz mono audio. Frames carry the previous frame's last 64 samples, as silero-vad's own wrapper does.

export const VAD_RATE = 16000
export const VAD_FRAME = 512
const CONTEXT = 64

export function sileroModelPath(): string {
  const bundled = bundledModelFile('silero_vad_v5.onnx')   // inside the binary
  if (bundled) return bundled
  let dir: string
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('@ricky0123/vad-web/package.json')), 'dist')
  } catch {
    throw new TesseraError('UNAVAILABLE', 'silence splitting with the Silero VAD needs the npm package @ricky0123/vad-web (it ships the model)')
  }
  const file = join(dir, 'silero_vad_v5.onnx')
  if (!existsSync(file)) throw new TesseraError('UNAVAILABLE', `Silero VAD model not found at ${file}`)
  return file
}

/** Speech probabilities, one per VAD_FRAME samples of 16 kHz mono audio. */
export async function speechProbabilities(samples: Float32Array): Promise<Float32Array> {
  // Through src/inference's sessions: onnxruntime-node where the build has it, onnxruntime-web (wasm) in a slim binary.
  const { session: s, provider } = await getSession(sileroModelPath(), { provider: 'cpu' })
  const frames = Math.ceil(samples.length / VAD_FRAME)
  const out = new Float32Array(frames)
  let state = await tensor(provider, 'float32', new Float32Array(2 * 128), [2, 1, 128])
  const sr = await tensor(provider, 'int64', BigInt64Array.from([BigInt(VAD_RATE)]), [1])
  let context = new Float32Array(CONTEXT)
  for (let f = 0; f < frames; f++) {
    const frame = new Float32Array(VAD_FRAME)
    frame.set(samples.subarray(f * VAD_FRAME, (f + 1) * VAD_FRAME))
    const x = new Float32Array(CONTEXT + VAD_FRAME)
    x.set(context, 0)
    x.set(frame, CONTEXT)
    context = frame.slice(-CONTEXT)
    const r = await s.run({ input: await tensor(provider, 'float32', x, [1, x.length]), state, sr })
    state = r.stateN as typeof state
    out[f] = (r.output!.data as Float32Array)[0]!
  }
  return out
}
