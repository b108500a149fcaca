import { currentMediaEnv } from '../media/index.ts'
import { loadSharp, openImage } from '../functions/index.ts'
import type { IteratorRow } from './registry.ts'
import { optionError, registerIterator } from './registry.ts'
import { nonNegativeInt, oneOrPair, positiveInt, readOptions } from './options.ts'

// tile_iterator: an image into tiles of tileSize with overlap, row by row from the top left. Edge tiles are clipped
// to the image (smaller, never padded). Tiles are stored as PNGs in the media store.
//
// A huge image is never decoded whole: tiles are cut from bands of whole tile rows, each band decoded from the source
// on its own (libvips reads the file sequentially and drops the rows above the band), at most BAND_BYTES of pixels
// at a time. A 12000x12000 image thus holds ~32 MB of pixels instead of 432 MB, for a few more partial decodes.

export interface TileOptions {
  /** [width, height] or one number for squares. */
  readonly tileSize: number | readonly [number, number]
  /** Pixels shared by neighbouring tiles: [x, y] or one number (default 0). */
  readonly overlap?: number | readonly [number, number]
}

const NAME = 'tile_iterator'
const RULES = { tileSize: oneOrPair(positiveInt), overlap: oneOrPair(nonNegativeInt) }
const BAND_BYTES = 32 << 20

const pair = (x: number | readonly [number, number]): [number, number] => (typeof x === 'number' ? [x, x] : [x[0], x[1]])

/** Refuses anything but whole-pixel sizes and overlaps smaller than the tile (else the tile step is not >= 1). */
export function checkTileOptions(options: unknown): void {
  const o = readOptions<Partial<TileOptions>>(NAME, options, RULES)
  if (o.tileSize === undefined) throw optionError(NAME, `tileSize is required: ${RULES.tileSize.expect}`)
  const [tw, th] = pair(o.tileSize)
  const [ox, oy] = pair(o.overlap ?? 0)
  if (ox >= tw || oy >= th) throw optionError(NAME, `overlap must be smaller than the tile, got overlap ${JSON.stringify(o.overlap)} with tileSize ${JSON.stringify(o.tileSize)}`)
}

/** Start offsets along one axis. */
export function tileStarts(length: number, size: number, overlap: number): number[] {
  const stride = size - overlap
  // The loop ends only when s reaches the end: a step that is not a positive integer (NaN, 0, negative) never does.
  if (!(Number.isSafeInteger(stride) && stride > 0 && Number.isSafeInteger(length))) throw optionError(NAME, `cannot step ${length} pixels by tileSize ${size} - overlap ${overlap}`)
  const out: number[] = []
  for (let s = 0; ; s += stride) {
    out.push(s)
    if (s + size >= length) break
  }
  return out
}

/** Consecutive runs of tile rows whose pixel rows together fit the band budget (at least one tile row each). */
export function tileBands(ys: readonly number[], tileHeight: number, height: number, rowBytes: number): { first: number; end: number; top: number; bottom: number }[] {
  const bottomOf = (j: number) => Math.min(height, ys[j]! + tileHeight)
  const out: { first: number; end: number; top: number; bottom: number }[] = []
  for (let first = 0; first < ys.length; ) {
    let end = first + 1
    while (end < ys.length && (bottomOf(end) - ys[first]!) * rowBytes <= BAND_BYTES) end++
    out.push({ first, end, top: ys[first]!, bottom: bottomOf(end - 1) })
    first = end
  }
  return out
}

export const tileIterator = registerIterator<TileOptions>({
  name: NAME,
  input: 'image',
  outputs: { tile: 'image', tile_coord: 'json', tile_box: 'json' },
  options: Object.keys(RULES),
  check: checkTileOptions,
  async *run(input, options): AsyncIterable<IteratorRow> {
    if (typeof input !== 'string') throw optionError(NAME, `input must be an image reference, got ${typeof input}`)
    const [tw, th] = pair(options!.tileSize)
    const [ox, oy] = pair(options!.overlap ?? 0)
    const sharp = await loadSharp()
    // EXIF-upright size: tiles are cut from the image as it is displayed.
    const { autoOrient: size, channels = 4 } = await (await openImage(input)).metadata()
    const ys = tileStarts(size.height, th, oy)
    const xs = tileStarts(size.width, tw, ox)
    const store = currentMediaEnv().store
    let pos = 0
    for (const band of tileBands(ys, th, size.height, size.width * channels)) {
      const { data, info } = await (await openImage(input)).rotate().extract({ left: 0, top: band.top, width: size.width, height: band.bottom - band.top }).raw().toBuffer({ resolveWithObject: true })
      const raw = { raw: { width: info.width, height: info.height, channels: info.channels } }
      for (let j = band.first; j < band.end; j++) {
        for (let i = 0; i < xs.length; i++) {
          const left = xs[i]!
          const top = ys[j]!
          const width = Math.min(tw, size.width - left)
          const height = Math.min(th, size.height - top)
          const png = await sharp(data, raw).extract({ left, top: top - band.top, width, height }).png().toBuffer()
          yield { pos: pos++, tile: await store.put(new Uint8Array(png), 'png'), tile_coord: [i, j], tile_box: [left, top, left + width, top + height] }
        }
      }
    }
  },
})
