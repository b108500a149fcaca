import sharp from 'sharp'
import { encodeWav } from '../../src/media/index.ts'

// Small real media made in the test process: nothing downloaded, nothing checked in.

/** A PNG of one colour, or with a white left half when `split` (so crops and tiles can be told apart). */
export async function png(width: number, height: number, color = '#ff0000', options: { split?: boolean; alpha?: boolean } = {}): Promise<Uint8Array> {
  let img = sharp({ create: { width, height, channels: options.alpha ? 4 : 3, background: color } })
  if (options.split) {
    const half = await sharp({ create: { width: Math.floor(width / 2), height, channels: 3, background: '#ffffff' } }).png().toBuffer()
    img = sharp(await img.composite([{ input: half, left: 0, top: 0 }]).png().toBuffer()).removeAlpha()
  }
  return new Uint8Array(await img.png().toBuffer())
}

/** A JPEG of one colour (for tests that need a real photo format, not a particular picture). */
export async function jpeg(width: number, height: number, color = '#3070c0'): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: color } }).jpeg().toBuffer())
}

/** A minimal valid PDF, hand-written: one Helvetica text line per entry of each page. */
export function pdf(pages: readonly (readonly string[])[]): Uint8Array {
  const objs: string[] = []
  const n = pages.length
  objs[1] = '<< /Type /Catalog /Pages 2 0 R >>'
  objs[2] = `<< /Type /Pages /Kids [${pages.map((_, i) => `${4 + i * 2} 0 R`).join(' ')}] /Count ${n} >>`
  objs[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
  pages.forEach((lines, i) => {
    const esc = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`)
    const stream = `BT /F1 12 Tf 72 720 Td 14 TL ${lines.map((l) => `(${esc(l)}) Tj T*`).join(' ')} ET`
    objs[4 + i * 2] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + i * 2} 0 R >>`
    objs[5 + i * 2] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`
  })
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  for (let i = 1; i < objs.length; i++) {
    offsets[i] = out.length
    out += `${i} 0 obj\n${objs[i]}\nendobj\n`
  }
  const xref = out.length
  out += `xref\n0 ${objs.length}\n0000000000 65535 f \n${offsets.slice(1).map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  out += `trailer\n<< /Size ${objs.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return new TextEncoder().encode(out)
}

/** Mono audio: each part is a tone (frequency in Hz) or silence (0) for `sec` seconds. */
export function tones(parts: readonly { hz: number; sec: number }[], sampleRate = 16000): Uint8Array {
  return encodeWav([toneSamples(parts, sampleRate)], sampleRate)
}

export function toneSamples(parts: readonly { hz: number; sec: number }[], sampleRate = 16000): Float32Array {
  const total = parts.reduce((s, p) => s + Math.round(p.sec * sampleRate), 0)
  const x = new Float32Array(total)
  let at = 0
  for (const p of parts) {
    const n = Math.round(p.sec * sampleRate)
    if (p.hz > 0) for (let i = 0; i < n; i++) x[at + i] = 0.5 * Math.sin((2 * Math.PI * p.hz * i) / sampleRate)
    at += n
  }
  return x
}

/** Synthetic voiced speech: a glottal pulse train at `f0` through vowel formants, with a slow pitch/level wobble. */
export function vowelSamples(sec: number, sampleRate = 16000, f0 = 120): Float32Array {
  const n = Math.round(sec * sampleRate)
  const src = new Float32Array(n)
  let phase = 0
  for (let i = 0; i < n; i++) {
    const tt = i / sampleRate
    phase += (f0 * (1 + 0.08 * Math.sin(2 * Math.PI * 3 * tt))) / sampleRate
    if (phase >= 1) {
      phase -= 1
      src[i] = 1
    }
  }
  // Formant resonators for a sequence of vowels (a, e, o), switching every 0.25 s.
  const vowels = [[730, 1090, 2440], [530, 1840, 2480], [570, 840, 2410]]
  const out = new Float32Array(n)
  for (let f = 0; f < 3; f++) {
    let y1 = 0
    let y2 = 0
    for (let i = 0; i < n; i++) {
      const v = vowels[Math.floor(i / (sampleRate * 0.25)) % vowels.length]!
      const bw = 90
      const r = Math.exp((-Math.PI * bw) / sampleRate)
      const c = 2 * r * Math.cos((2 * Math.PI * v[f]!) / sampleRate)
      const y = src[i]! + c * y1 - r * r * y2
      y2 = y1
      y1 = y
      out[i]! += y / (f + 1)
    }
  }
  let peak = 0
  for (const v of out) peak = Math.max(peak, Math.abs(v))
  const env = (i: number) => Math.min(1, i / (0.03 * sampleRate), (n - i) / (0.03 * sampleRate)) * (0.8 + 0.2 * Math.sin(2 * Math.PI * 4 * (i / sampleRate)))
  for (let i = 0; i < n; i++) out[i] = (0.6 * out[i]! * env(i)) / peak
  return out
}

export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
