import { html } from './html.ts'
import { tableUrl } from './api.ts'
import type { IndexInfo, TableInfo } from './api.ts'

// A table's schema: types, nullability, keys, computed expressions and what depends on each column, indexes.

function refs(node: unknown, out = new Set<string>()): Set<string> {
  if (node && typeof node === 'object') {
    const n = node as { col?: unknown; args?: unknown[] }
    if (typeof n.col === 'string') out.add(n.col)
    for (const a of n.args ?? []) refs(a, out)
  }
  return out
}

export function dependents(info: TableInfo, column: string): string[] {
  return info.columns.filter((c) => c.expr && refs(c.expr).has(column)).map((c) => c.name)
}

export function SchemaView({ info, indexes }: { info: TableInfo; indexes: IndexInfo[] }) {
  return html`
    <section aria-label="schema">
      <p class="meta">Version ${info.version}${info.readOnly ? ' · read-only' : ''}${info.primaryKey.length ? ` · primary key (${info.primaryKey.join(', ')})` : ''}${info.comment ? ` · ${info.comment}` : ''}</p>
      <div class="grid-wrap"><table class="grid schema">
        <thead><tr><th scope="col">column</th><th scope="col">type</th><th scope="col">nullable</th><th scope="col">computed as</th><th scope="col">on error</th><th scope="col">used by</th><th scope="col">added in</th></tr></thead>
        <tbody>${info.columns.map((c) => {
          const deps = [...dependents(info, c.name), ...indexes.filter((i) => i.column === c.name).map((i) => `index ${i.name}`)]
          return html`<tr>
            <td><strong>${c.name}</strong>${c.primaryKey ? html` <span class="tag">key</span>` : null}</td>
            <td><code>${c.type.replace(/\?$/, '')}</code></td>
            <td>${c.type.endsWith('?') ? 'yes' : 'no'}</td>
            <td>${c.computedWith ? html`<code class="expr">${c.computedWith}</code>` : html`<span class="muted">stored</span>`}</td>
            <td>${c.onError ?? ''}</td>
            <td>${deps.join(', ')}</td>
            <td class="num">v${c.addedIn}</td>
          </tr>`
        })}</tbody>
      </table></div>
      <h3>Embedding indexes</h3>
      ${indexes.length === 0 ? html`<p class="muted">None.</p>` : html`<div class="grid-wrap"><table class="grid">
        <thead><tr><th scope="col">name</th><th scope="col">column</th><th scope="col">embedder</th><th scope="col">modality</th><th scope="col">metric</th><th scope="col">dims</th></tr></thead>
        <tbody>${indexes.map((i) => html`<tr><td>${i.name}</td><td>${i.column}</td><td><code>${i.embed.fn}</code></td><td>${i.embed.modality}</td><td>${i.metric}</td><td class="num">${i.dims}</td></tr>`)}</tbody>
      </table></div>`}
      <p class="muted">API: <code>GET /api/v1${tableUrl(info.path)}</code></p>
    </section>`
}
