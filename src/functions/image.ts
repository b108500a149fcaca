import type { Sharp } from 'sharp'
import { clearStoreRefs, currentMediaEnv, readOnlyWork, resolveMedia } from '../media/index.ts'
import type { FnNode, ExprLike } from '../query/index.ts'
import { call, expectKinds, scalar, t, typeError } from '../query/index.ts'

// Image functions over image references, with sharp. Functions that make a new image store it in the current media
// store (content-addressed, so the same result is one file) and return its media:// ref; image_thumbnail returns a
// small data: URL instead, ready for a browser. Rotation follows PIL (and Pixeltable): positive angles turn
// counter-clockwise.

type SharpFactory = (input?: string | Buffer | Uint8Array, options?: object) => Sharp
let sharpModule: Promise<SharpFactory> | undefined
// Loaded on first use: a native module that databases without images never need.
export const loadSharp = (): Promise<SharpFactory> => (sharpModule ??= import('sharp').then((m) => m.default as unknown as SharpFactory))

/** A sharp pipeline over the image a reference names (path, URL, media:// or data: URL). */
export async function openImage(ref: string): Promise<Sharp> {
  const sharp = await loadSharp()
  if (ref.startsWith('data:')) return sharp(Buffer.from(ref.slice(ref.indexOf(',') + 1), 'base64'))
  return sharp(await resolveMedia(ref))
}

/** Encodes a pipeline and stores it, returning the media:// ref (read-only work keeps it in the bounded cache). */
export async function storeImage(img: Sharp, format: OutFormat = 'png'): Promise<string> {
  const bytes = new Uint8Array(await encode(img, format).toBuffer())
  const ext = format === 'jpeg' ? 'jpg' : format
  const env = currentMediaEnv()
  const ref = readOnlyWork() ? await env.cache.putDerived(bytes, ext) : await env.store.put(bytes, ext)
  // Derived from bytes the caller could read: an outer function may read it back (media/read-gate.ts).
  clearStoreRefs([ref])
  return ref
}

type OutFormat = 'png' | 'jpeg' | 'webp'
const FORMATS: Record<string, OutFormat> = { png: 'png', jpeg: 'jpeg', jpg: 'jpeg', webp: 'webp' }

function encode(img: Sharp, format: OutFormat): Sharp {
  return format === 'jpeg' ? img.jpeg({ quality: 90 }) : format === 'webp' ? img.webp({ quality: 90 }) : img.png()
}

async function sourceFormat(ref: string): Promise<OutFormat> {
  const m = await (await openImage(ref)).metadata()
  return FORMATS[m.format ?? ''] ?? 'png'
}

const IMG = ['image', 'string']
const num = (node: FnNode, key: string, fallback?: number): number => {
  const v = node.opts?.[key] ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v)) throw typeError(node, `${node.fn}() needs a numeric opts.${key}`)
  return v
}

function imageFn(name: string, kind: 'int' | 'string' | 'image' | 'json', fn: (ref: string, node: FnNode) => Promise<unknown>, check?: (node: FnNode) => void) {
  scalar({
    name, minArgs: 1, maxArgs: 1,
    returnType: (types, node) => (expectKinds(node, types, 0, IMG), check?.(node), t(kind, types[0]!.nullable)),
    evalBatch: async ([refs], node) => Promise.all(refs!.map((r) => fn(r as string, node))),
  })
}

async function size(ref: string): Promise<{ width: number; height: number }> {
  const m = await (await openImage(ref)).metadata()
  // EXIF-rotated photos: report the size as displayed, which is what every transform below works on.
  const o = (m as { autoOrient?: { width: number; height: number } }).autoOrient
  return o ?? { width: m.width ?? 0, height: m.height ?? 0 }
}

imageFn('image_width', 'int', async (ref) => (await size(ref)).width)
imageFn('image_height', 'int', async (ref) => (await size(ref)).height)
imageFn('image_mode', 'string', async (ref) => {
  const m = await (await openImage(ref)).metadata()
  if (m.space === 'cmyk') return 'CMYK'
  return ({ 1: 'L', 2: 'LA', 3: 'RGB', 4: 'RGBA' } as Record<number, string>)[m.channels ?? 3] ?? 'RGB'
})

// Output size bounds: a function whose output size the caller picks (resize, rotation) would otherwise make sharp
// fill any size up to its own 100,000,000 px per side (a 20000x20000 resize of a 1x1 image took 25.8 s of CPU per
// row, from a read-only query). A result may be at most 16384 px per side (sharp's default input limit, so it can be
// read back) and 50 megapixels in all, or else no larger than its source (shrinking or turning a big photo by a right
// angle stays allowed; a source is itself bounded by sharp's input limit of 268 megapixels).
export const MAX_OUTPUT_SIDE = 16384
export const MAX_OUTPUT_PIXELS = 50_000_000

/** Refuses an output side that is not a whole number of pixels (sharp takes nothing else). */
function checkSide(node: FnNode, what: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw typeError(node, `${node.fn}() ${what} must be a positive whole number of pixels, got ${JSON.stringify(v)}`)
}

/** Refuses an output of width x height past the limits that is also larger than its source. */
function checkOutputSize(node: FnNode, out: { width: number; height: number }, src: { width: number; height: number }): void {
  const { width, height } = out
  const withinSource = width * height <= src.width * src.height && Math.max(width, height) <= Math.max(src.width, src.height)
  if (withinSource) return
  if (Math.max(width, height) > MAX_OUTPUT_SIDE) throw typeError(node, `${node.fn}() would make a ${width}x${height} image from a ${src.width}x${src.height} one: over the limit of ${MAX_OUTPUT_SIDE} pixels per side`)
  if (width * height > MAX_OUTPUT_PIXELS) throw typeError(node, `${node.fn}() would make a ${width}x${height} image from a ${src.width}x${src.height} one: over the limit of ${MAX_OUTPUT_PIXELS.toLocaleString('en-US')} pixels`)
}

/** The size sharp's resize gives an image of src size for the requested width/height and fit. */
export function resizedSize(src: { width: number; height: number }, w: number | undefined, h: number | undefined, fit: string): { width: number; height: number } {
  const sw = Math.max(1, src.width)
  const sh = Math.max(1, src.height)
  if (w !== undefined && h === undefined) return { width: w, height: Math.max(1, Math.round((w * sh) / sw)) }
  if (h !== undefined && w === undefined) return { width: Math.max(1, Math.round((h * sw) / sh)), height: h }
  if (w === undefined || h === undefined) return { width: sw, height: sh }
  if (fit !== 'inside' && fit !== 'outside') return { width: w, height: h }
  const scale = fit === 'inside' ? Math.min(w / sw, h / sh) : Math.max(w / sw, h / sh)
  return { width: Math.max(1, Math.round(sw * scale)), height: Math.max(1, Math.round(sh * scale)) }
}

const FITS = ['fill', 'cover', 'contain', 'inside', 'outside']

imageFn('image_resize', 'image', async (ref, node) => {
  const w = node.opts?.width as number | undefined
  const h = node.opts?.height as number | undefined
  const fit = (node.opts?.fit as 'fill' | 'cover' | 'contain' | 'inside' | 'outside' | undefined) ?? (w && h ? 'fill' : 'inside')
  // One dimension (or fit 'outside') leaves the other to the image's aspect ratio: checked against the real size.
  const src = await size(ref)
  checkOutputSize(node, resizedSize(src, w, h, fit), src)
  return storeImage((await openImage(ref)).rotate().resize(w ?? null, h ?? null, { fit }), await sourceFormat(ref))
}, (node) => {
  const { width, height, fit } = node.opts ?? {}
  if (width === undefined && height === undefined) throw typeError(node, 'image_resize() needs opts.width and/or opts.height')
  if (width !== undefined) checkSide(node, 'width', width)
  if (height !== undefined) checkSide(node, 'height', height)
  if (fit !== undefined && !FITS.includes(String(fit))) throw typeError(node, `image_resize() fit must be one of ${FITS.join(', ')}, got ${JSON.stringify(fit)}`)
})

// crop takes a PIL box [left, top, right, bottom], or left/top/width/height.
function cropBox(node: FnNode): { left: number; top: number; width: number; height: number } {
  const box = node.opts?.box
  if (Array.isArray(box) && box.length === 4 && box.every((x) => typeof x === 'number')) {
    const [l, tp, r, b] = box as number[]
    return { left: l!, top: tp!, width: r! - l!, height: b! - tp! }
  }
  return { left: num(node, 'left', 0), top: num(node, 'top', 0), width: num(node, 'width'), height: num(node, 'height') }
}
imageFn('image_crop', 'image', async (ref, node) => {
  const b = cropBox(node)
  const img = (await openImage(ref)).rotate()
  return storeImage((await loadSharp())(await img.toBuffer()).extract(b), await sourceFormat(ref))
}, (node) => {
  const b = cropBox(node)
  if (b.width <= 0 || b.height <= 0) throw typeError(node, 'image_crop() needs a box with positive width and height')
})

/** The bounding box of a w x h image turned by `degrees` (what sharp's rotate makes). */
export function rotatedSize(w: number, h: number, degrees: number): { width: number; height: number } {
  const a = (degrees * Math.PI) / 180
  const c = Math.abs(Math.cos(a))
  const s = Math.abs(Math.sin(a))
  // Multiples of 90 degrees exactly (cos/sin are not exactly 0 there).
  if (degrees % 90 === 0) return (degrees / 90) % 2 === 0 ? { width: w, height: h } : { width: h, height: w }
  return { width: Math.ceil(w * c + h * s), height: Math.ceil(w * s + h * c) }
}

imageFn('image_rotate', 'image', async (ref, node) => {
  // Turning by other than a right angle grows the canvas (up to twice the pixels at 45 degrees).
  const src = await size(ref)
  checkOutputSize(node, rotatedSize(src.width, src.height, num(node, 'angle')), src)
  const img = (await openImage(ref)).rotate()
  const upright = (await loadSharp())(await img.toBuffer())
  return storeImage(upright.rotate(-num(node, 'angle'), { background: { r: 0, g: 0, b: 0, alpha: 0 } }), await sourceFormat(ref))
}, (node) => void num(node, 'angle'))

imageFn('image_grayscale', 'image', async (ref) => storeImage((await openImage(ref)).rotate().grayscale().toColourspace('b-w'), await sourceFormat(ref)))

// convert: a new format ('png' | 'jpeg' | 'webp') and/or mode ('L' | 'RGB' | 'RGBA').
imageFn('image_convert', 'image', async (ref, node) => {
  const format = FORMATS[String(node.opts?.format ?? '')] ?? (await sourceFormat(ref))
  let img = (await openImage(ref)).rotate()
  const mode = node.opts?.mode as string | undefined
  if (mode === 'L') img = img.grayscale().removeAlpha().toColourspace('b-w')
  else if (mode === 'RGB') img = img.removeAlpha().toColourspace('srgb')
  else if (mode === 'RGBA') img = img.ensureAlpha().toColourspace('srgb')
  return storeImage(img, format)
}, (node) => {
  const { format, mode } = node.opts ?? {}
  if (format === undefined && mode === undefined) throw typeError(node, 'image_convert() needs opts.format and/or opts.mode')
  if (format !== undefined && !FORMATS[String(format)]) throw typeError(node, `image_convert() format must be png, jpeg or webp, got ${JSON.stringify(format)}`)
  if (mode !== undefined && !['L', 'RGB', 'RGBA'].includes(String(mode))) throw typeError(node, `image_convert() mode must be L, RGB or RGBA, got ${JSON.stringify(mode)}`)
})

imageFn('image_thumbnail', 'string', async (ref, node) => {
  const s = num(node, 'size', 128)
  const bytes = await (await openImage(ref)).rotate().resize(s, s, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer()
  return `data:image/webp;base64,${bytes.toString('base64')}`
}, (node) => {
  if (node.opts?.size !== undefined) checkSide(node, 'size', node.opts.size)
})

/** Expression helpers: `image.width(docs.c.photo)`, `image.resize(docs.c.photo, { width: 64 })`. */
export const image = {
  width: (x: ExprLike) => call('image_width', [x]),
  height: (x: ExprLike) => call('image_height', [x]),
  mode: (x: ExprLike) => call('image_mode', [x]),
  resize: (x: ExprLike, o: { width?: number; height?: number; fit?: 'fill' | 'cover' | 'contain' | 'inside' | 'outside' }) => call('image_resize', [x], o),
  crop: (x: ExprLike, box: readonly [number, number, number, number]) => call('image_crop', [x], { box: [...box] }),
  rotate: (x: ExprLike, angle: number) => call('image_rotate', [x], { angle }),
  convert: (x: ExprLike, o: { format?: 'png' | 'jpeg' | 'webp'; mode?: 'L' | 'RGB' | 'RGBA' }) => call('image_convert', [x], o),
  grayscale: (x: ExprLike) => call('image_grayscale', [x]),
  /** A small WebP data: URL (default 128 px on the longer side). */
  thumbnail: (x: ExprLike, size = 128) => call('image_thumbnail', [x], { size }),
}
