import { invalid, TesseraError } from '../errors.ts'
import { imageBytes } from './media.ts'
import { resolveModel } from './models.ts'
import type { Provider } from './runtime.ts'
import { getSession, inBatches, tensor, toNumbers } from './runtime.ts'
import { normalize } from './sentence.ts'

// Image embeddings from any ONNX image model: decode with sharp, resize, scale, normalise per channel, lay out as
// NCHW or NHWC, run, and take one output (a pooled feature vector, or class logits) as the embedding.

export interface ImagePreprocess {
  /** Model input size: [width, height] or one number for a square (default 224). */
  readonly size?: number | readonly [number, number]
  /** How the image fits the size: 'cover' crops (default), 'fill' stretches, 'contain' pads. */
  readonly fit?: 'cover' | 'fill' | 'contain'
  /** Pixel values are divided by this first (default 255; 1 keeps 0–255). */
  readonly scale?: number
  /** Per-channel mean and std applied after scaling (default ImageNet's). */
  readonly mean?: readonly number[]
  readonly std?: readonly number[]
  readonly layout?: 'nchw' | 'nhwc'
  readonly channels?: 'rgb' | 'bgr'
}

export interface ImageEmbedOptions extends ImagePreprocess {
  /** The output to use (default the model's first). */
  readonly output?: string
  /** L2-normalise the vectors (default true). */
  readonly normalize?: boolean
  readonly provider?: Provider
  readonly batchSize?: number
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406]
const IMAGENET_STD = [0.229, 0.224, 0.225]

/** Decodes and preprocesses one image into a float32 [3, H, W] or [H, W, 3] buffer. */
export async function preprocessImage(input: unknown, p: ImagePreprocess = {}): Promise<{ data: Float32Array; width: number; height: number }> {
  const [width, height] = typeof p.size === 'number' ? [p.size, p.size] : (p.size ?? [224, 224])
  const { default: sharp } = await import('sharp')
  let raw: Buffer
  try {
    raw = await sharp(await imageBytes(input)).rotate().removeAlpha().toColorspace('srgb')
      .resize(width, height, { fit: p.fit ?? 'cover', background: { r: 0, g: 0, b: 0 } }).raw().toBuffer()
  } catch (e) {
    if (e instanceof TesseraError && e.code === 'FORBIDDEN') throw e
    throw invalid('INVALID_MEDIA', `cannot decode image ${typeof input === 'string' ? input : '(bytes)'}: ${(e as Error).message}`)
  }
  const scale = p.scale ?? 255
  const mean = p.mean ?? IMAGENET_MEAN
  const std = p.std ?? IMAGENET_STD
  const hw = width * height
  const data = new Float32Array(hw * 3)
  const nchw = (p.layout ?? 'nchw') === 'nchw'
  for (let i = 0; i < hw; i++) {
    for (let c = 0; c < 3; c++) {
      const src = p.channels === 'bgr' ? 2 - c : c
      const v = (raw[i * 3 + src]! / scale - mean[c]!) / std[c]!
      data[nchw ? c * hw + i : i * 3 + c] = v
    }
  }
  return { data, width, height }
}

export async function imageEmbed(model: string, images: readonly unknown[], options: ImageEmbedOptions = {}): Promise<number[][]> {
  const folder = await resolveModel(model)
  const { session, provider } = await getSession(folder.onnx, options.provider ? { provider: options.provider } : {})
  const output = options.output ?? session.outputNames[0]!
  if (!session.outputNames.includes(output)) {
    throw invalid('INVALID_ARGUMENT', `model '${model}' has no output '${output}'; outputs are ${session.outputNames.join(', ')}`, { model })
  }
  return inBatches(images, options.batchSize ?? 16, async (slice) => {
    const pre = await Promise.all(slice.map((img) => preprocessImage(img, options)))
    const { width, height } = pre[0]!
    const one = width * height * 3
    const batch = new Float32Array(one * slice.length)
    pre.forEach((x, i) => batch.set(x.data, i * one))
    const dims = (options.layout ?? 'nchw') === 'nchw' ? [slice.length, 3, height, width] : [slice.length, height, width, 3]
    const out = (await session.run({ [session.inputNames[0]!]: await tensor(provider, 'float32', batch, dims) }))[output]!
    const d = (out.data as Float32Array).length / slice.length
    return Array.from({ length: slice.length }, (_, i) => {
      const v = toNumbers(out.data as Float32Array, i * d, d)
      return options.normalize === false ? v : normalize(v)
    })
  })
}
