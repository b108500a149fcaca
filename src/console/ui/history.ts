import { useEffect, useState } from 'preact/hooks'
import { html } from './html.ts'
import { api, tableUrl } from './api.ts'
import type { HistoryAnswer, TableInfo, Version } from './api.ts'
import { ErrorBox } from './ui.ts'

// Version history, newest first; the latest version can be reverted (write scope only, asked twice).


export function HistoryView({ info, writable, onChange }: { info: TableInfo; writable: boolean; onChange: () => void }) {
  const [versions, setVersions] = useState<Version[] | undefined>()
  const [error, setError] = useState<unknown>()
  const [confirm, setConfirm] = useState(false)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    let live = true
    api<HistoryAnswer>('GET', tableUrl(info.path, 'history')).then((r) => live && setVersions(r.versions), (e) => live && setError(e))
    return () => { live = false }
  }, [info.path, info.version])
  const revert = async () => {
    if (!confirm) { setConfirm(true); return }
    setBusy(true)
    setError(undefined)
    try { await api('POST', tableUrl(info.path, 'revert')); onChange() } catch (e) { setError(e) } finally { setBusy(false); setConfirm(false) }
  }
  const latest = versions?.[0]
  return html`
    <section aria-label="history">
      ${writable && latest && latest.version > 0 && !info.readOnly ? html`
        <div class="row-actions">
          <button type="button" class=${confirm ? 'danger' : ''} onClick=${revert} disabled=${busy}>${confirm ? `Confirm: undo version ${latest.version}` : `Revert version ${latest.version}`}</button>
          ${confirm ? html`<button type="button" onClick=${() => setConfirm(false)}>Cancel</button>` : null}
        </div>` : null}
      <${ErrorBox} error=${error} />
      ${versions ? html`
        <div class="grid-wrap"><table class="grid history">
          <thead><tr><th scope="col">version</th><th scope="col">kind</th><th scope="col">when</th><th scope="col">inserted</th><th scope="col">updated</th><th scope="col">deleted</th><th scope="col">errors</th></tr></thead>
          <tbody>${versions.map((v) => html`<tr>
            <td class="num">${v.version}</td><td>${v.kind}</td><td>${new Date(v.createdAt).toLocaleString()}</td>
            <td class="num">${v.inserted}</td><td class="num">${v.updated}</td><td class="num">${v.deleted}</td><td class=${`num${v.errors ? ' has-err' : ''}`}>${v.errors}</td>
          </tr>`)}</tbody>
        </table></div>` : html`<p class="loading">Loading…</p>`}
    </section>`
}
