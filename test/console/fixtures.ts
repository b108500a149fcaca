import sharp from 'sharp'

// Small generated media for the console tests (no files from outside the repo needed).

export async function squarePng(color: string, size = 64, label?: string): Promise<Buffer> {
  const text = label ? `<text x="50%" y="58%" font-size="${size / 4}" text-anchor="middle" fill="#fff" font-family="sans-serif">${label}</text>` : ''
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="${color}"/><circle cx="${size / 2}" cy="${size / 2}" r="${size / 4}" fill="#ffffff55"/>${text}</svg>`
  return sharp(Buffer.from(svg)).png().toBuffer()
}

export const dataUrl = (bytes: Uint8Array, mime = 'image/png'): string => `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`

/** A tiny valid WAV (mono 8 kHz, 0.1 s of a tone). */
export function toneWav(): Buffer {
  const rate = 8000, n = 800
  const b = Buffer.alloc(44 + n * 2)
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVE', 8); b.write('fmt ', 12)
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28)
  b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(n * 2, 40)
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2)
  return b
}
