import { useState } from 'preact/hooks'
import { html } from './html.ts'
import { insertRows, isTesseraError } from './api.ts'
import type { ColumnInfo, TableInfo } from './api.ts'
import { DropZone, readDataUrl } from './drop.ts'
import { literal } from './query.ts'
import { ErrorBox } from './ui.ts'

// Upload: dropped files and pasted rows become pending rows (editable), inserted through POST .../rows. An insert
// is all or nothing, and a failure names the row; that row is marked and the rest retried, so each failed row
// shows its own error and the others still go in.

interface Pending { id: number; values: Record<string, string>; file?: { name: string; url: string; column: string }; status?: 'ok' | 'error'; message?: string }

const KIND_OF_MIME: [RegExp, string][] = [[/^image\//, 'image'], [/^audio\//, 'audio'], [/^video\//, 'video'], [/^(application\/pdf|text\/)/, 'document']]
const kindOf = (c: ColumnInfo): string => c.type.replace(/\?$/, '').replace(/[<[].*$/, '')

export function parsePasted(text: string): Record<string, unknown>[] {
  const t = text.trim()
  if (!t) return []
  if (t.startsWith('[') || t.startsWith('{')) {
    const parsed = JSON.parse(t)
    return Array.isArray(parsed) ? parsed : [parsed]
  }
  const lines = t.split(/\r?\n/).filter((l) => l.trim() !== '')
  const sep = lines[0]!.includes('\t') ? '\t' : ','
  const header = lines[0]!.split(sep).map((h) => h.trim())
  return lines.slice(1).map((l) => {
    const cells = l.split(sep)
    return Object.fromEntries(header.map((h, i) => [h, (cells[i] ?? '').trim()]))
  })
}

let nextId = 1

export function UploadView({ info, onChange }: { info: TableInfo; onChange: () => void }) {
  const writable = info.columns.filter((c) => !c.computedWith)
  const [rows, setRows] = useState<Pending[]>([])
  const [paste, setPaste] = useState('')
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const [summary, setSummary] = useState('')

  const addFiles = async (files: File[]) => {
    setError(undefined)
    const added: Pending[] = []
    for (const f of files) {
      const kind = KIND_OF_MIME.find(([re]) => re.test(f.type || (/\.(md|txt|html?)$/i.test(f.name) ? 'text/plain' : '')))?.[1]
      const col = writable.find((c) => kindOf(c) === kind)
      const p: Pending = { id: nextId++, values: {} }
      if (!col) Object.assign(p, { status: 'error', message: `${f.name}: this table has no ${kind ?? 'media'} column for a ${f.type || 'file of unknown type'}` })
      else p.file = { name: f.name, url: await readDataUrl(f), column: col.name }
      added.push(p)
    }
    setRows((r) => [...r, ...added])
  }
  const addPasted = () => {
    try {
      const parsed = parsePasted(paste)
      setRows((r) => [...r, ...parsed.map((o) => ({ id: nextId++, values: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) }))])
      setPaste('')
      setError(undefined)
    } catch (e) { setError(new Error(`cannot read the pasted rows: ${(e as Error).message}`)) }
  }
  const edit = (id: number, col: string, value: string) => setRows((rs) => rs.map((r) => (r.id === id ? { ...r, values: { ...r.values, [col]: value }, status: undefined, message: undefined } : r)))

  const toRow = (p: Pending): Record<string, unknown> => {
    const out: Record<string, unknown> = {}
    for (const c of writable) {
      const v = p.values[c.name]
      if (v !== undefined && v !== '') out[c.name] = kindOf(c) === 'string' ? v : literal(c, v)
    }
    for (const k of Object.keys(p.values)) if (!writable.some((c) => c.name === k) && p.values[k] !== '') out[k] = p.values[k]
    if (p.file) out[p.file.column] = p.file.url
    return out
  }

  const insert = async () => {
    setBusy(true)
    setError(undefined)
    let todo = rows.filter((r) => r.status !== 'ok' && !(r.status === 'error' && !r.file && Object.keys(r.values).length === 0))
    const marks = new Map<number, { status: 'ok' | 'error'; message?: string }>()
    let inserted = 0
    try {
      while (todo.length > 0) {
        try {
          const s = await insertRows(info.path, { rows: todo.map(toRow), onError: 'ignore' })
          inserted += s.numInserted
          for (const r of todo) marks.set(r.id, { status: 'ok', ...(s.numExcs > 0 ? { message: 'inserted; some computed cells failed (see the rows)' } : {}) })
          todo = []
        } catch (e) {
          const row = isTesseraError(e) ? e.details?.row : undefined
          if (typeof row !== 'number' || !todo[row]) {
            for (const r of todo) marks.set(r.id, { status: 'error', message: (e as Error).message })
            todo = []
          } else {
            marks.set(todo[row].id, { status: 'error', message: (e as Error).message.replace(/row \d+/, 'this row') })
            todo = todo.filter((_, i) => i !== row)
          }
        }
      }
    } finally {
      setRows((rs) => rs.map((r) => ({ ...r, ...(marks.get(r.id) ?? {}) })))
      const failed = [...marks.values()].filter((m) => m.status === 'error').length
      setSummary(`${inserted} row${inserted === 1 ? '' : 's'} inserted${failed ? `, ${failed} failed` : ''}`)
      setBusy(false)
      if (inserted > 0) onChange()
    }
  }

  const pending = rows.filter((r) => r.status !== 'ok').length
  return html`
    <section aria-label="upload">
      <${DropZone} onFiles=${addFiles} accept="image/*,audio/*,video/*,application/pdf,text/*,.md" label="Drop images, audio, PDFs or text files here, or click to choose" />
      <details class="paste">
        <summary>Paste rows (JSON or CSV with a header line)</summary>
        <textarea aria-label="pasted rows" rows="4" value=${paste} onInput=${(e: Event) => setPaste((e.target as HTMLTextAreaElement).value)} placeholder=${'[{"' + (writable[0]?.name ?? 'col') + '": ...}]'}></textarea>
        <button type="button" onClick=${addPasted} disabled=${!paste.trim()}>Add pasted rows</button>
      </details>
      <${ErrorBox} error=${error} />
      ${rows.length > 0 ? html`
        <div class="grid-wrap"><table class="grid pending">
          <thead><tr><th scope="col">status</th>${writable.map((c) => html`<th scope="col"><span class="col-name">${c.name}</span><span class="col-type">${c.type}</span></th>`)}<th></th></tr></thead>
          <tbody>${rows.map((r) => html`
            <tr class=${r.status ?? ''} data-row=${r.id}>
              <td class="status">${r.status === 'ok' ? html`<span class="ok-badge">✓ inserted</span>` : r.status === 'error' ? html`<span class="err-badge row-error" role="alert">✕ ${r.message}</span>` : html`<span class="muted">pending</span>`}
                ${r.status === 'ok' && r.message ? html`<div class="muted">${r.message}</div>` : null}</td>
              ${writable.map((c) => html`<td>${r.file?.column === c.name
                ? (kindOf(c) === 'image' ? html`<img class="preview" src=${r.file.url} alt=${r.file.name} />` : null)
                : null}${r.file?.column === c.name
                ? html`<span class="file-name">${r.file.name}</span>`
                : html`<input aria-label=${c.name} value=${r.values[c.name] ?? ''} disabled=${r.status === 'ok'} onInput=${(e: Event) => edit(r.id, c.name, (e.target as HTMLInputElement).value)} />`}</td>`)}
              <td><button type="button" class="icon" aria-label="remove row" onClick=${() => setRows(rows.filter((x) => x.id !== r.id))}>✕</button></td>
            </tr>`)}
          </tbody>
        </table></div>
        <div class="row-actions">
          <button type="button" class="primary" onClick=${insert} disabled=${busy || pending === 0}>Insert ${pending} row${pending === 1 ? '' : 's'}</button>
          <button type="button" onClick=${() => setRows(rows.filter((r) => r.status !== 'ok'))}>Clear inserted</button>
          <span class="summary" aria-live="polite">${summary}</span>
        </div>` : null}
    </section>`
}
