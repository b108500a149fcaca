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

/**
 * The VAD over audio that arrives in pieces (a long file read as a stream): push 16 kHz mono samples, get the
 * speech probability of every VAD_FRAME completed so far; end() pads and scores the last partial frame. The model's
 * state and the 64-sample context carry from frame to frame, exactly as over the whole signal at once.
 */
export class VadStream {
  #pending = new Float32Array(0)
  #state: unknown
  #context = new Float32Array(CONTEXT)

  async push(samples: Float32Array): Promise<Float32Array> {
    const all = new Float32Array(this.#pending.length + samples.length)
    all.set(this.#pending)
    all.set(samples, this.#pending.length)
    const frames = Math.floor(all.length / VAD_FRAME)
    this.#pending = all.slice(frames * VAD_FRAME)
    return this.#score(all.subarray(0, frames * VAD_FRAME), frames)
  }

  async end(): Promise<Float32Array> {
    if (this.#pending.length === 0) return new Float32Array(0)
    const last = new Float32Array(VAD_FRAME)
    last.set(this.#pending)
    this.#pending = new Float32Array(0)
    return this.#score(last, 1)
  }

  async #score(samples: Float32Array, frames: number): Promise<Float32Array> {
    // Through src/inference's sessions: onnxruntime-node where the build has it, onnxruntime-web (wasm) in a slim binary.
    const { session: s, provider } = await getSession(sileroModelPath(), { provider: 'cpu' })
    const out = new Float32Array(frames)
    let state = this.#state ?? (await tensor(provider, 'float32', new Float32Array(2 * 128), [2, 1, 128]))
    const sr = await tensor(provider, 'int64', BigInt64Array.from([BigInt(VAD_RATE)]), [1])
    for (let f = 0; f < frames; f++) {
      const frame = samples.subarray(f * VAD_FRAME, (f + 1) * VAD_FRAME)
      const x = new Float32Array(CONTEXT + VAD_FRAME)
      x.set(this.#context, 0)
      x.set(frame, CONTEXT)
      this.#context = frame.slice(-CONTEXT)
      const r = await s.run({ input: await tensor(provider, 'float32', x, [1, x.length]), state, sr } as never)
      state = r.stateN
      out[f] = (r.output!.data as Float32Array)[0]!
    }
    this.#state = state
    return out
  }
}

/** Speech probabilities, one per VAD_FRAME samples of 16 kHz mono audio. */
export async function speechProbabilities(samples: Float32Array): Promise<Float32Array> {
  const vad = new VadStream()
  const a = await vad.push(samples)
  const b = await vad.end()
  const out = new Float32Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
