import { html } from './html.ts'
import { isTesseraError } from './api.ts'

// Small shared pieces.

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null
  const e = error as Partial<Error>
  return html`<div class="error" role="alert">${isTesseraError(error) ? html`<strong>${error.code}</strong> ` : null}${e.message ?? String(error)}</div>`
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)

/** JSON on one line with a space after ':' and ',' (`{ "col": "id" }`). */
function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : inline(x))).join(', ')}]`
  if (isObj(v)) {
    const parts = Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`)
    return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`
  }
  return JSON.stringify(v) ?? 'null'
}

/**
 * JSON indented like JSON.stringify(v, null, 2), except that an object or array nested in the top level stays on
 * one line when that line fits in `width`, so a request with a long select list still reads at a glance.
 */
export function formatJson(value: unknown, width = 80): string {
  const fmt = (v: unknown, indent: string, lead: number): string => {
    if (!Array.isArray(v) && !isObj(v)) return JSON.stringify(v) ?? 'null'
    const flat = inline(v)
    if (indent !== '' && indent.length + lead + flat.length <= width) return flat
    const inner = `${indent}  `
    const items = Array.isArray(v)
      ? v.map((x) => `${inner}${x === undefined ? 'null' : fmt(x, inner, 0)}`)
      : Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${fmt(x, inner, JSON.stringify(k).length + 2)}`)
    if (items.length === 0) return Array.isArray(v) ? '[]' : '{}'
    return Array.isArray(v) ? `[\n${items.join(',\n')}\n${indent}]` : `{\n${items.join(',\n')}\n${indent}}`
  }
  return fmt(value, '', 0)
}

export function JsonBlock({ label, value }: { label: string; value: unknown }) {
  return html`<figure class="api-json"><figcaption>${label}</figcaption><pre><code>${formatJson(value)}</code></pre></figure>`
}
