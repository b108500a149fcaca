import { useEffect, useState } from 'preact/hooks'
import { html } from './html.ts'
import { getToken, isTesseraError, listAll, setToken, whoami as fetchWhoami } from './api.ts'
import type { Principal } from './api.ts'
import { JobsView } from './jobs.ts'
import { TableView, TABS } from './table-view.ts'
import type { Tab } from './table-view.ts'
import { Tree } from './tree.ts'
import { ErrorBox } from './ui.ts'

// The shell: login gate, header, the tree, and the routed view. Routes live in the hash:
// #/t/<table path>[?tab=query] and #/jobs.

interface Route { view: 'home' | 'table' | 'jobs'; path?: string; tab: Tab }

function parseHash(hash: string): Route {
  const [p, qs] = hash.replace(/^#/, '').split('?')
  const tab = new URLSearchParams(qs ?? '').get('tab') as Tab | null
  if (p?.startsWith('/t/')) return { view: 'table', path: decodeURIComponent(p.slice(3)), tab: tab && TABS.includes(tab) ? tab : 'rows' }
  if (p === '/jobs') return { view: 'jobs', tab: 'rows' }
  return { view: 'home', tab: 'rows' }
}

function Login({ onLogin, message }: { onLogin: () => void; message: string | undefined }) {
  const [token, setTok] = useState('')
  const [remember, setRemember] = useState(false)
  const [error, setError] = useState<unknown>()
  const submit = async (e: Event) => {
    e.preventDefault()
    setToken(token.trim(), remember)
    try { await fetchWhoami(); onLogin() } catch (err) { setToken('', false); setError(err) }
  }
  return html`<main class="login">
    <form onSubmit=${submit} class="login-form">
      <h1>Tessera</h1>
      <p>${message ?? 'This server needs an API token.'} Create one with <code>tessera token create NAME</code>.</p>
      <label for="token">API token</label>
      <input id="token" type="password" autocomplete="current-password" value=${token} onInput=${(e: Event) => setTok((e.target as HTMLInputElement).value)} required autofocus />
      <label class="check"><input type="checkbox" checked=${remember} onChange=${(e: Event) => setRemember((e.target as HTMLInputElement).checked)} /> Remember on this browser</label>
      <button type="submit" class="primary">Sign in</button>
      <${ErrorBox} error=${error} />
    </form>
  </main>`
}

export function App() {
  const [principal, setPrincipal] = useState<Principal | null | undefined>()
  const [route, setRoute] = useState(parseHash(location.hash))
  const [catalog, setCatalog] = useState<{ dirs: string[]; tables: string[] }>({ dirs: [], tables: [] })
  const [error, setError] = useState<unknown>()
  const [menu, setMenu] = useState(false)

  const whoami = () => fetchWhoami().then(setPrincipal, (e) => (isTesseraError(e) && e.code === 'UNAUTHORIZED' ? setPrincipal(null) : setError(e)))
  useEffect(() => { void whoami() }, [])
  useEffect(() => {
    const on = () => { setRoute(parseHash(location.hash)); setMenu(false) }
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  useEffect(() => {
    if (!principal) return
    listAll().then(setCatalog, setError)
  }, [principal, route.path])

  if (principal === undefined) return error ? html`<main class="login"><${ErrorBox} error=${error} /></main>` : html`<p class="loading">Loading…</p>`
  if (principal === null) return html`<${Login} onLogin=${whoami} message=${getToken() ? 'That token was refused.' : undefined} />`
  const go = (tab: Tab) => { location.hash = `#/t/${route.path}${tab === 'rows' ? '' : `?tab=${tab}`}` }
  const signOut = () => { setToken('', false); setPrincipal(null) }
  return html`<div class="shell">
    <header class="top">
      <a href="#/" class="brand">Tessera</a>
      <button type="button" class="menu-toggle" aria-expanded=${menu} aria-controls="sidebar" onClick=${() => setMenu(!menu)}>☰ Tables</button>
      <nav class="top-nav" aria-label="main"><a href="#/jobs" aria-current=${route.view === 'jobs' ? 'page' : undefined}>Jobs</a></nav>
      <span class="who" title=${principal.admin ? 'admin' : principal.scopes.map((s) => `${s.prefix || '/'}:${s.access}`).join(' ')}>${principal.name}${principal.admin ? ' (admin)' : ''}</span>
      ${getToken() ? html`<button type="button" onClick=${signOut}>Sign out</button>` : null}
    </header>
    <aside id="sidebar" class=${menu || route.view === 'home' ? 'open' : ''}><${Tree} dirs=${catalog.dirs} tables=${catalog.tables} selected=${route.path} /></aside>
    <main class="content">
      <${ErrorBox} error=${error} />
      ${route.view === 'table' && route.path ? html`<${TableView} key=${route.path} path=${route.path} tab=${route.tab} principal=${principal} onTab=${go} />` : null}
      ${route.view === 'jobs' ? html`<${JobsView} principal=${principal} />` : null}
      ${route.view === 'home' ? html`<section class="home"><h2>Welcome</h2><p>Pick a table on the left to browse its rows, schema and history, query it, search its embedding indexes, or upload files.</p>
        <p class="muted">Everything here goes through the HTTP API at <code>/api/v1</code> with your token; the Query and Search views show the JSON they send.</p></section>` : null}
    </main>
  </div>`
}
