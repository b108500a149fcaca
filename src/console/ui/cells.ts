import { useEffect, useRef, useState } from 'preact/hooks'
import { html } from './html.ts'
import { api, mediaPreviewUrl, mediaUrl } from './api.ts'
import type { DocumentPreview, ResultColumn } from './api.ts'

// One grid cell, rendered by column type: thumbnails, players, document text previews, folded JSON, per-cell error
// badges.

const baseType = (t: string): string => t.replace(/\?$/, '').replace(/[<[].*$/, '')

function fileName(ref: string): string {
  const clean = ref.replace(/[?#].*$/, '')
  const base = clean.slice(clean.lastIndexOf('/') + 1)
  return base.length > 28 ? `${base.slice(0, 12)}…${base.slice(-12)}` : base
}

function Json({ value }: { value: unknown }) {
  const text = JSON.stringify(value)
  if (text.length <= 48) return html`<code class="json">${text}</code>`
  return html`<details class="json"><summary><code>${text.slice(0, 40)}…</code></summary><pre>${JSON.stringify(value, null, 2)}</pre></details>`
}

function Text({ value }: { value: string }) {
  if (value.length <= 120) return html`<span class="text">${value}</span>`
  return html`<details class="text"><summary>${value.slice(0, 110)}…</summary><div class="long">${value}</div></details>`
}

/** The media route's answer to preview=text. */
export type DocPreview = DocumentPreview

const SNIPPET = 120
const PREVIEW_CACHE_MAX = 200
// One request per document while the page lives: paging back, re-rendering or two cells with the same file share it.
const previews = new Map<string, Promise<DocPreview>>()

function loadPreview(table: string, column: string, ref: string): Promise<DocPreview> {
  const key = `${table}\u0000${column}\u0000${ref}`
  let p = previews.get(key)
  if (!p) {
    p = api<DocPreview>('GET', mediaPreviewUrl(table, column, ref))
    if (previews.size >= PREVIEW_CACHE_MAX) previews.delete(previews.keys().next().value!)
    previews.set(key, p)
    p.catch(() => { if (previews.get(key) === p) previews.delete(key) }) // a failure is asked again next time
  }
  return p
}

/** The start of the text on one line, cut at a word near SNIPPET characters. */
function snippet(text: string): { line: string; cut: boolean } {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat.length <= SNIPPET) return { line: flat, cut: false }
  const head = flat.slice(0, SNIPPET)
  const space = head.lastIndexOf(' ')
  return { line: `${space > SNIPPET - 30 ? head.slice(0, space) : head}…`, cut: true }
}

function docMeta(p: DocPreview): string {
  return [p.kind.toUpperCase(), p.pages ? `${p.pages} page${p.pages === 1 ? '' : 's'}` : '', p.title ? `“${p.title}”` : '',
    p.truncated ? `first ${p.text.length.toLocaleString('en')} characters` : ''].filter(Boolean).join(' · ')
}

/**
 * A document cell: a link that opens the file, and its text. The text is fetched once the cell scrolls into view
 * (or when its disclosure is opened first); the summary shows the first line, opening it shows the ~2000 characters
 * the server extracted.
 */
function Doc({ table, column, value }: { table: string; column: string; value: string }) {
  const box = useRef<HTMLDivElement>(null)
  const [wanted, setWanted] = useState(false)
  const [open, setOpen] = useState(false)
  const [state, setState] = useState<{ preview?: DocPreview; error?: string }>({})
  useEffect(() => {
    const el = box.current
    if (!el || typeof IntersectionObserver === 'undefined') { setWanted(true); return }
    const io = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) { setWanted(true); io.disconnect() } }, { rootMargin: '200px' })
    io.observe(el)
    return () => io.disconnect()
  }, [])
  useEffect(() => setOpen(false), [table, column, value]) // a grid page reuses the cell for another row's document
  useEffect(() => {
    if (!wanted) return
    let live = true
    setState({})
    loadPreview(table, column, value).then((preview) => live && setState({ preview }), (e: unknown) => live && setState({ error: e instanceof Error ? e.message : String(e) }))
    return () => { live = false }
  }, [wanted, table, column, value])
  const link = html`<a href=${mediaUrl(table, column, value)} target="_blank" rel="noopener" class="doc" title=${`open ${value}`}>${fileName(value)}</a>`
  const { preview, error } = state
  // Opening the disclosure before the text arrived asks for it, and it stays open when the text replaces the placeholder.
  const toggle = (e: Event) => {
    const now = (e.currentTarget as HTMLDetailsElement).open
    setOpen(now)
    if (now) setWanted(true)
  }
  let body
  if (error) {
    body = html`<details class="doc-preview doc-failed" open=${open} onToggle=${toggle}><summary>No text preview</summary><div class="long">${error}</div></details>`
  } else if (!preview) {
    body = html`<details class="doc-preview" open=${open} onToggle=${toggle}><summary class="muted">Loading preview…</summary></details>`
  } else if (preview.text === '') {
    body = html`<span class="doc-snippet muted">no text${preview.pages ? ` (${docMeta(preview)})` : ''}</span>`
  } else {
    const { line, cut } = snippet(preview.text)
    body = !cut && !preview.truncated
      ? html`<span class="doc-snippet" title=${docMeta(preview)}>${line}</span>`
      : html`<details class="doc-preview" open=${open} onToggle=${toggle}><summary><span class="doc-snippet">${line}</span></summary><div class="long doc-text">${preview.text}${preview.truncated ? ' …' : ''}</div><div class="doc-meta">${docMeta(preview)}</div></details>`
  }
  return html`<div class="doc-cell" ref=${box}>${link}${body}</div>`
}

export interface CellProps {
  readonly table: string
  readonly column: ResultColumn
  readonly value: unknown
  /** errortype/errormsg of a computed cell that failed. */
  readonly error?: { type: string; msg: string } | undefined
  /** Media cells can only be served for stored table columns (not for expressions in a query's select). */
  readonly mediaColumn?: boolean
}

export function Cell({ table, column, value, error, mediaColumn = true }: CellProps) {
  if (error) return html`<span class="err-badge" title=${`${error.type}: ${error.msg}`} tabindex="0">⚠ ${error.type}<span class="err-msg">${error.msg}</span></span>`
  if (value === null || value === undefined) return html`<span class="null">null</span>`
  const kind = baseType(column.type)
  if (typeof value === 'string' && mediaColumn && ['image', 'audio', 'video', 'document'].includes(kind)) {
    const full = mediaUrl(table, column.name, value)
    if (kind === 'image') return html`<a href=${full} target="_blank" rel="noopener" class="thumb"><img src=${mediaUrl(table, column.name, value, 160)} alt=${`${column.name}: ${fileName(value)}`} loading="lazy" /></a>`
    if (kind === 'audio') return html`<audio controls preload="none" src=${full} aria-label=${`${column.name} audio`}></audio>`
    if (kind === 'video') return html`<video controls preload="metadata" src=${full} class="video"></video>`
    return html`<${Doc} table=${table} column=${column.name} value=${value} />`
  }
  if (kind === 'json' || kind === 'array' || typeof value === 'object') {
    if (kind === 'array' && Array.isArray(value) && value.length > 8) {
      return html`<details class="json"><summary><code>[${value.slice(0, 3).map((x) => (typeof x === 'number' ? x.toFixed(3) : String(x))).join(', ')}, … ${value.length}]</code></summary><pre>${JSON.stringify(value)}</pre></details>`
    }
    return html`<${Json} value=${value} />`
  }
  if (typeof value === 'number') return html`<span class="num">${Number.isInteger(value) ? value : value.toFixed(4)}</span>`
  if (typeof value === 'boolean') return html`<span class="bool">${String(value)}</span>`
  return html`<${Text} value=${String(value)} />`
}
