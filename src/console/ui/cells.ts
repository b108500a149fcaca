import { html } from './html.ts'
import { mediaUrl } from './api.ts'
import type { ResultColumn } from './api.ts'

// One grid cell, rendered by column type: thumbnails, players, previews, folded JSON, per-cell error badges.

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
    return html`<a href=${full} target="_blank" rel="noopener" class="doc">${fileName(value)}</a>`
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
