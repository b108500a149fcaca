import { currentMediaEnv } from '../media/index.ts'
import { loadSharp, openImage } from '../functions/index.ts'
import type { IteratorRow } from './registry.ts'
import { checkOptions, optionError, registerIterator } from './registry.ts'

// tile_iterator: an image into tiles of tileSize with overlap, row by row from the top left. Edge tiles are clipped
// to the image (smaller, never padded). Tiles are stored as PNGs in the media store.

export interface TileOptions {
  /** [width, height] or one number for squares. */
  readonly tileSize: number | readonly [number, number]
  /** Pixels shared by neighbouring tiles: [x, y] or one number (default 0). */
  readonly overlap?: number | readonly [number, number]
}

const pair = (x: number | readonly [number, number]): [number, number] => (typeof x === 'number' ? [x, x] : [x[0], x[1]])

/** Start offsets along one axis. */
export function tileStarts(length: number, size: number, overlap: number): number[] {
  const stride = size - overlap
  const out: number[] = []
  for (let s = 0; ; s += stride) {
    out.push(s)
    if (s + size >= length) break
  }
  return out
}

export const tileIterator = registerIterator<TileOptions>({
  name: 'tile_iterator',
  input: 'image',
  outputs: { tile: 'image', tile_coord: 'json', tile_box: 'json' },
  options: ['tileSize', 'overlap'],
  async *run(input, options): AsyncIterable<IteratorRow> {
    const name = 'tile_iterator'
    checkOptions(name, options, ['tileSize', 'overlap'])
    if (typeof input !== 'string') throw optionError(name, `input must be an image reference, got ${typeof input}`)
    if (!options?.tileSize) throw optionError(name, 'tileSize is required')
    const [tw, th] = pair(options.tileSize)
    const [ox, oy] = pair(options.overlap ?? 0)
    if (!(tw > 0 && th > 0)) throw optionError(name, 'tileSize must be positive')
    if (ox < 0 || oy < 0 || ox >= tw || oy >= th) throw optionError(name, 'overlap must be >= 0 and smaller than the tile')
    const sharp = await loadSharp()
    // Decode once (EXIF-upright) and cut tiles from raw pixels.
    const { data, info } = await (await openImage(input)).rotate().raw().toBuffer({ resolveWithObject: true })
    const raw = { raw: { width: info.width, height: info.height, channels: info.channels } }
    const store = currentMediaEnv().store
    let pos = 0
    const ys = tileStarts(info.height, th, oy)
    const xs = tileStarts(info.width, tw, ox)
    for (let j = 0; j < ys.length; j++) {
      for (let i = 0; i < xs.length; i++) {
        const left = xs[i]!
        const top = ys[j]!
        const width = Math.min(tw, info.width - left)
        const height = Math.min(th, info.height - top)
        const png = await sharp(data, raw).extract({ left, top, width, height }).png().toBuffer()
        yield { pos: pos++, tile: await store.put(new Uint8Array(png), 'png'), tile_coord: [i, j], tile_box: [left, top, left + width, top + height] }
      }
    }
  },
})
