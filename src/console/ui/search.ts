import { useEffect, useState } from 'preact/hooks'
import { html } from './html.ts'
import { search, tableUrl } from './api.ts'
import type { IndexInfo, Result, SearchRequest, TableInfo } from './api.ts'
import { mediaColumnsOf } from './browse.ts'
import { DropZone, readDataUrl } from './drop.ts'
import { Grid } from './grid.ts'
import { ErrorBox, JsonBlock } from './ui.ts'

// Similarity search on an embedding index: typed text, or an image picked or dropped; hybrid (full text + vector)
// where the indexed column is text.

export function SearchView({ info, indexes }: { info: TableInfo; indexes: IndexInfo[] }) {
  const [name, setName] = useState(indexes[0]?.name ?? '')
  const [text, setText] = useState('')
  const [image, setImage] = useState<{ url: string; name: string } | undefined>()
  const [hybrid, setHybrid] = useState(false)
  const [k, setK] = useState(10)
  const [result, setResult] = useState<Result | undefined>()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  useEffect(() => { if (!indexes.some((i) => i.name === name)) setName(indexes[0]?.name ?? '') }, [indexes])
  const idx = indexes.find((i) => i.name === name)
  if (!idx) return html`<p class="empty">This table has no embedding index. Add one with <code>table.addEmbeddingIndex(column, { embed })</code>.</p>`
  const byImage = idx.embed.modality === 'image'
  const textColumn = /^string\??$/.test(info.columns.find((c) => c.name === idx.column)?.type ?? '')
  // errors: computed cells that failed come back as <col>#errortype/#errormsg, shown as badges like the Rows grid.
  const errors = info.columns.some((c) => c.computedWith !== undefined)
  const body: SearchRequest = { column: idx.column, idx: idx.name, k, ...(byImage ? { image: image ? `${image.url.slice(0, 40)}…` : '(data: URL)' } : { text, ...(hybrid && textColumn ? { hybrid: true } : {}) }), ...(errors ? { errors: true } : {}) }
  const run = async (e?: Event) => {
    e?.preventDefault()
    if (byImage ? !image : !text.trim()) return
    setBusy(true)
    setError(undefined)
    try {
      setResult(await search(info.path, { ...body, ...(byImage ? { image: image!.url } : {}) }))
    } catch (err) { setError(err); setResult(undefined) } finally { setBusy(false) }
  }
  const pick = async (files: File[]) => {
    const f = files.find((x) => x.type.startsWith('image/'))
    if (!f) { setError(new Error('drop an image file (PNG, JPEG, WebP, GIF)')); return }
    setImage({ url: await readDataUrl(f), name: f.name })
    setError(undefined)
  }
  useEffect(() => { if (byImage && image) void run() }, [image])
  return html`
    <section aria-label="similarity search">
      <form class="builder" onSubmit=${run}>
        <fieldset class="inline">
          <legend>Similarity search</legend>
          <label>Index <select value=${name} onChange=${(e: Event) => { setName((e.target as HTMLSelectElement).value); setResult(undefined) }}>
            ${indexes.map((i) => html`<option value=${i.name}>${i.name} on ${i.column} (${i.embed.modality}, ${i.metric}, ${i.dims}d)</option>`)}
          </select></label>
          <label>Top <input type="number" min="1" max="1000" class="num-input" value=${k} onInput=${(e: Event) => setK(Number((e.target as HTMLInputElement).value) || 10)} /></label>
          ${byImage ? null : html`
            <input type="search" class="search-text" aria-label="search text" placeholder=${`search ${idx.column}…`} value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />
            ${textColumn ? html`<label title="fuse full-text ranking with the vector ranking"><input type="checkbox" checked=${hybrid} onChange=${(e: Event) => setHybrid((e.target as HTMLInputElement).checked)} /> hybrid</label>` : null}
            <button type="submit" class="primary" disabled=${busy || !text.trim()}>Search</button>`}
        </fieldset>
        ${byImage ? html`
          <div class="image-query">
            <${DropZone} onFiles=${pick} accept="image/*" multiple=${false} label="Drop an image here, or click to choose one" />
            ${image ? html`<figure class="query-image"><img src=${image.url} alt="query image" /><figcaption>${image.name}</figcaption></figure>` : null}
          </div>` : null}
      </form>
      <${JsonBlock} label=${`POST /api/v1${tableUrl(info.path, 'search')}`} value=${body} />
      <${ErrorBox} error=${error} />
      ${busy ? html`<p class="loading">Searching…</p>` : null}
      ${result ? html`<${Grid} table=${info.path} result=${result} mediaColumns=${mediaColumnsOf(info)} caption="search results" />` : null}
    </section>`
}
