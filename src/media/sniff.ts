// Container sniffing from a file's first bytes: cheap, and enough to tell an MP3 from a WAV or a PDF from HTML.
// Decoding proper (sharp, unpdf, ffprobe) happens in the validators.

export type Sniffed =
  | { readonly kind: 'image'; readonly ext: string }
  | { readonly kind: 'audio'; readonly ext: string }
  | { readonly kind: 'video'; readonly ext: string }
  | { readonly kind: 'document'; readonly ext: string }

const ascii = (b: Uint8Array, at: number, len: number): string => String.fromCharCode(...b.subarray(at, at + len))

export function sniff(b: Uint8Array): Sniffed | undefined {
  if (b.length < 4) return undefined
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'image', ext: 'jpg' }
  if (b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return { kind: 'image', ext: 'png' }
  if (ascii(b, 0, 4) === 'GIF8') return { kind: 'image', ext: 'gif' }
  if (ascii(b, 0, 2) === 'BM') return { kind: 'image', ext: 'bmp' }
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return { kind: 'image', ext: 'tiff' }
  if (ascii(b, 0, 4) === 'RIFF') {
    const form = ascii(b, 8, 4)
    if (form === 'WEBP') return { kind: 'image', ext: 'webp' }
    if (form === 'WAVE') return { kind: 'audio', ext: 'wav' }
    if (form === 'AVI ') return { kind: 'video', ext: 'avi' }
  }
  if (ascii(b, 0, 4) === 'fLaC') return { kind: 'audio', ext: 'flac' }
  if (ascii(b, 0, 4) === 'OggS') return isOggVideo(b) ? { kind: 'video', ext: 'ogv' } : { kind: 'audio', ext: 'ogg' }
  if (ascii(b, 0, 3) === 'ID3' || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 && (b[1]! & 0x06) !== 0)) return { kind: 'audio', ext: 'mp3' }
  if (ascii(b, 4, 4) === 'ftyp') {
    const brand = ascii(b, 8, 4)
    if (brand === 'avif' || brand === 'avis') return { kind: 'image', ext: 'avif' }
    if (brand === 'heic' || brand === 'heix' || brand === 'mif1') return { kind: 'image', ext: 'heic' }
    if (brand.startsWith('M4A')) return { kind: 'audio', ext: 'm4a' }
    if (brand === 'qt  ') return { kind: 'video', ext: 'mov' }
    return { kind: 'video', ext: 'mp4' }
  }
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    return { kind: 'video', ext: ascii(b, 0, 64).includes('webm') ? 'webm' : 'mkv' }
  }
  if (ascii(b, 0, 5) === '%PDF-') return { kind: 'document', ext: 'pdf' }
  const head = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 512)).trimStart().toLowerCase()
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return { kind: 'document', ext: 'html' }
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return { kind: 'image', ext: 'svg' }
  return undefined
}

function isOggVideo(b: Uint8Array): boolean {
  const head = ascii(b, 0, Math.min(b.length, 128))
  return head.includes('theora') || head.includes('Theora')
}

/** True when the bytes decode as UTF-8 text without control characters other than whitespace. */
export function isText(b: Uint8Array): boolean {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(b)
    return !/[\u0000-\u0008\u000e-\u001f]/.test(s)
  } catch {
    return false
  }
}

const MIME_EXT: Record<string, string> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/bmp': 'bmp', 'image/tiff': 'tiff',
  'image/avif': 'avif', 'image/svg+xml': 'svg', 'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/wave': 'wav', 'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg', 'audio/flac': 'flac', 'video/mp4': 'mp4', 'video/webm': 'webm', 'video/quicktime': 'mov',
  'application/pdf': 'pdf', 'text/html': 'html', 'text/markdown': 'md', 'text/plain': 'txt',
}

export const extForMime = (mime: string): string | undefined => MIME_EXT[mime.toLowerCase()]
export const mimeForExt = (ext: string): string | undefined => Object.entries(MIME_EXT).find(([, e]) => e === ext)?.[0]
