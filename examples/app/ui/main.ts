// The app's UI: upload files and images, search them (text, hybrid, images by caption), chat with the agent.
// Preact with htm templates: no JSX compile step; server.ts bundles this file when it starts.
import { h, render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import htm from 'htm'
import { ApiError, call, readAsDataUrl, setToken } from './api.ts'

const html = htm.bind(h)

type Files = { docs: { id: string; name: string }[]; images: { id: string; name: string; caption: string | null; thumb: string }[] }
type Hit = { file: string; text: string | null; score: number | null; thumb?: string }
type ToolRun = { name: string; args: Record<string, unknown>; result?: unknown; error?: string }
type Turn = { role: 'user' | 'assistant'; text: string; tools?: ToolRun[] }

function Upload({ onDone, files }: { onDone: () => void; files: Files | undefined }) {
  const [status, setStatus] = useState('')
  const upload = async (files: FileList | null) => {
    if (!files?.length) return
    for (const file of Array.from(files)) {
      setStatus(`uploading ${file.name}…`)
      const data = await readAsDataUrl(file)
      const isImage = file.type.startsWith('image/')
      try {
        await call(isImage ? '/images' : '/docs', { id: crypto.randomUUID(), name: file.name, [isImage ? 'image' : 'doc']: data })
      } catch (e) {
        setStatus(`${file.name}: ${(e as Error).message}`)
        return
      }
    }
    setStatus(`uploaded ${files.length} file${files.length > 1 ? 's' : ''}`)
    onDone()
  }
  return html`<section class="panel">
    <h2>Files</h2>
    <label class="drop">Add documents (text, Markdown, HTML, PDF) or images
      <input id="upload" type="file" multiple onChange=${(e: Event) => upload((e.target as HTMLInputElement).files)} />
    </label>
    <p class="status" id="upload-status" role="status">${status}</p>
    <${FileList} files=${files} />
  </section>`
}

function FileList({ files }: { files: Files | undefined }) {
  if (!files) return null
  return html`<ul class="files" id="files">
    ${files.docs.map((d) => html`<li key=${d.id} class="file doc"><span class="badge">DOC</span>${d.name}</li>`)}
    ${files.images.map((i) => html`<li key=${i.id} class="file image"><img src=${i.thumb} alt="" /><span>${i.name}</span><small>${i.caption ?? '(no caption)'}</small></li>`)}
  </ul>`
}

function Search() {
  const [q, setQ] = useState('')
  const [mode, setMode] = useState('text')
  const [hits, setHits] = useState<Hit[] | undefined>()
  const [error, setError] = useState('')
  const run = async (e: Event) => {
    e.preventDefault()
    setError('')
    try {
      setHits(await call<Hit[]>('/search', { q, mode }))
    } catch (err) {
      setError((err as Error).message)
    }
  }
  return html`<section class="panel">
    <h2>Search</h2>
    <form class="row" onSubmit=${run}>
      <input id="q" placeholder="search your files" value=${q} onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)} />
      <select id="mode" value=${mode} onChange=${(e: Event) => setMode((e.target as HTMLSelectElement).value)}>
        <option value="text">text</option><option value="hybrid">hybrid</option><option value="image">images</option>
      </select>
      <button id="search" type="submit">Search</button>
    </form>
    ${error && html`<p class="error">${error}</p>`}
    ${hits && html`<ol class="hits" id="hits">${hits.length === 0 ? html`<li class="empty">no results</li>` : hits.map((hit, i) => html`<li key=${i} class="hit">
      ${hit.thumb && html`<img src=${hit.thumb} alt="" />`}
      <div><strong>${hit.file}</strong> <small>${hit.score === null ? '' : hit.score.toFixed(3)}</small><p>${hit.text}</p></div>
    </li>`)}</ol>`}
  </section>`
}

function Chat() {
  const [turns, setTurns] = useState<Turn[]>([])
  const [question, setQuestion] = useState('')
  const [busy, setBusy] = useState(false)
  const ask = async (e: Event) => {
    e.preventDefault()
    if (!question.trim()) return
    const q = question
    setQuestion('')
    setTurns((t) => [...t, { role: 'user', text: q }])
    setBusy(true)
    try {
      const r = await call<{ answer: string | null; tools: ToolRun[]; error: string | null }>('/chat', { question: q })
      setTurns((t) => [...t, { role: 'assistant', text: r.answer ?? `(no answer: ${r.error ?? 'unknown error'})`, tools: r.tools }])
    } catch (err) {
      setTurns((t) => [...t, { role: 'assistant', text: `(error: ${(err as Error).message})` }])
    } finally {
      setBusy(false)
    }
  }
  return html`<section class="panel chat">
    <h2>Ask your files</h2>
    <div class="turns" id="turns">${turns.map((t, i) => html`<div key=${i} class=${`turn ${t.role}`}>
      <p>${t.text}</p>
      ${t.tools?.length ? html`<details class="tools"><summary>${t.tools.length} search${t.tools.length > 1 ? 'es' : ''}</summary>
        ${t.tools.map((x) => html`<pre>${x.name}(${JSON.stringify(x.args)}) → ${JSON.stringify(x.error ?? x.result, null, 1).slice(0, 600)}</pre>`)}</details>` : null}
    </div>`)}${busy && html`<div class="turn assistant thinking">…</div>`}</div>
    <form class="row" onSubmit=${ask}>
      <input id="question" placeholder="ask a question" value=${question} onInput=${(e: Event) => setQuestion((e.target as HTMLInputElement).value)} />
      <button id="ask" type="submit" disabled=${busy}>Ask</button>
    </form>
  </section>`
}

function App() {
  const [files, setFiles] = useState<Files | undefined>()
  const [needToken, setNeedToken] = useState(false)
  const refresh = () => call<Files>('/files', {}).then(setFiles, (e: ApiError) => { if (e.status === 401) setNeedToken(true) })
  useEffect(() => { void refresh() }, [])
  if (needToken) {
    return html`<form class="panel token" onSubmit=${(e: Event) => { e.preventDefault(); setToken((document.getElementById('token') as HTMLInputElement).value); setNeedToken(false); void refresh() }}>
      <label>API token <input id="token" type="password" /></label><button type="submit">Sign in</button></form>`
  }
  return html`<header><h1>Tessera app</h1><span title="MCP endpoint (Streamable HTTP) for agents">MCP: /api/v1/mcp</span> · <a href="/openapi.json">API</a></header>
    <main>
      <div class="col"><${Upload} onDone=${refresh} files=${files} /></div>
      <div class="col"><${Search} /><${Chat} /></div>
    </main>`
}

render(html`<${App} />`, document.getElementById('root')!)
