import { useState } from 'preact/hooks'
import { html } from './html.ts'

// A drop zone that is also a keyboard-usable file picker (the label wraps a real file input).

export function DropZone({ onFiles, accept, multiple = true, label }: { onFiles: (files: File[]) => void; accept?: string; multiple?: boolean; label: string }) {
  const [over, setOver] = useState(false)
  return html`
    <label class=${`drop${over ? ' over' : ''}`}
      onDragOver=${(e: DragEvent) => { e.preventDefault(); setOver(true) }}
      onDragLeave=${() => setOver(false)}
      onDrop=${(e: DragEvent) => { e.preventDefault(); setOver(false); onFiles([...(e.dataTransfer?.files ?? [])]) }}>
      <input type="file" class="file-input" accept=${accept} multiple=${multiple}
        onChange=${(e: Event) => { const input = e.target as HTMLInputElement; onFiles([...(input.files ?? [])]); input.value = '' }} />
      <span>${label}</span>
    </label>`
}

export function readDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader()
    r.onload = () => resolve(String(r.result))
    r.onerror = () => reject(r.error)
    r.readAsDataURL(file)
  })
}
