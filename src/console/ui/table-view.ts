import { useEffect, useState } from 'preact/hooks'
import { html } from './html.ts'
import { api, canWrite, NotFoundError, tableUrl } from './api.ts'
import type { IndexInfo, Principal, TableInfo } from './api.ts'
import { Browse } from './browse.ts'
import { HistoryView } from './history.ts'
import { QueryView } from './query.ts'
import { SchemaView } from './schema.ts'
import { SearchView } from './search.ts'
import { ErrorBox } from './ui.ts'
import { UploadView } from './upload.ts'

// One table: tabs for rows, schema, query, search, upload (write scope only) and history.

export const TABS = ['rows', 'schema', 'query', 'search', 'upload', 'history'] as const
export type Tab = (typeof TABS)[number]

export function TableView({ path, tab, principal, onTab }: { path: string; tab: Tab; principal: Principal | undefined; onTab: (t: Tab) => void }) {
  const [info, setInfo] = useState<TableInfo | undefined>()
  const [indexes, setIndexes] = useState<IndexInfo[]>([])
  const [error, setError] = useState<unknown>()
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    setError(undefined)
    api<TableInfo>('GET', tableUrl(path)).then((i) => live && setInfo(i), (e) => live && setError(e))
    api<{ indexes: IndexInfo[] }>('GET', tableUrl(path, 'indexes')).then((r) => live && setIndexes(r.indexes), (e) => live && !(e instanceof NotFoundError) && setError(e))
    return () => { live = false }
  }, [path, tick])
  const writable = canWrite(principal, path) && !info?.readOnly
  const tabs = TABS.filter((t) => t !== 'upload' || writable)
  const refresh = () => setTick((x) => x + 1)
  const keyNav = (e: KeyboardEvent) => {
    const i = tabs.indexOf(tab)
    if (e.key === 'ArrowRight') onTab(tabs[(i + 1) % tabs.length]!)
    else if (e.key === 'ArrowLeft') onTab(tabs[(i - 1 + tabs.length) % tabs.length]!)
  }
  return html`<article class="table-view">
    <header class="table-head">
      <h2>${path}</h2>
      ${info ? html`<span class="meta">v${info.version} · ${info.columns.length} columns${writable ? '' : ' · read only'}</span>` : null}
    </header>
    <div class="tabs" role="tablist" aria-label="table views" onKeyDown=${keyNav}>
      ${tabs.map((t) => html`<button type="button" role="tab" id=${`tab-${t}`} aria-selected=${t === tab} tabindex=${t === tab ? 0 : -1} onClick=${() => onTab(t)}>${t}</button>`)}
    </div>
    <${ErrorBox} error=${error} />
    ${info ? html`<div role="tabpanel" aria-labelledby=${`tab-${tab}`} class="panel">
      ${tab === 'rows' ? html`<${Browse} info=${info} />` : null}
      ${tab === 'schema' ? html`<${SchemaView} info=${info} indexes=${indexes} />` : null}
      ${tab === 'query' ? html`<${QueryView} info=${info} />` : null}
      ${tab === 'search' ? html`<${SearchView} info=${info} indexes=${indexes} />` : null}
      ${tab === 'upload' && writable ? html`<${UploadView} info=${info} onChange=${refresh} />` : null}
      ${tab === 'history' ? html`<${HistoryView} info=${info} writable=${writable} onChange=${refresh} />` : null}
    </div>` : error ? null : html`<p class="loading">Loading…</p>`}
  </article>`
}
