import { html } from './html.ts'
import { ApiError } from './api.ts'

// Small shared pieces.

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null
  const e = error as Partial<ApiError> & Error
  return html`<div class="error" role="alert">${e instanceof ApiError ? html`<strong>${e.code}</strong> ` : null}${e.message ?? String(e)}</div>`
}

export function JsonBlock({ label, value }: { label: string; value: unknown }) {
  return html`<figure class="api-json"><figcaption>${label}</figcaption><pre><code>${JSON.stringify(value, null, 2)}</code></pre></figure>`
}
