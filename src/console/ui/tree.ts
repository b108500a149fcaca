import { html } from './html.ts'

// Dirs and tables as a tree (each dir a <details>, each table a link).

interface Node { name: string; path: string; dirs: Map<string, Node>; tables: string[] }

export function buildTree(dirs: string[], tables: string[]): Node {
  const root: Node = { name: '', path: '', dirs: new Map(), tables: [] }
  const dirNode = (path: string): Node => {
    let n = root
    let acc = ''
    for (const part of path.split('/').filter(Boolean)) {
      acc = acc ? `${acc}/${part}` : part
      let next = n.dirs.get(part)
      if (!next) n.dirs.set(part, (next = { name: part, path: acc, dirs: new Map(), tables: [] }))
      n = next
    }
    return n
  }
  for (const d of dirs) dirNode(d)
  for (const t of tables) dirNode(t.split('/').slice(0, -1).join('/')).tables.push(t)
  return root
}

function Branch({ node, selected }: { node: Node; selected: string | undefined }) {
  return html`<ul role="group">
    ${[...node.dirs.values()].sort((a, b) => a.name.localeCompare(b.name)).map((d) => html`<li class="dir">
      <details open><summary>${d.name}/</summary><${Branch} node=${d} selected=${selected} /></details>
    </li>`)}
    ${[...node.tables].sort().map((t) => html`<li class="table"><a href=${`#/t/${t}`} aria-current=${t === selected ? 'page' : undefined}>${t.split('/').at(-1)}</a></li>`)}
  </ul>`
}

export function Tree({ dirs, tables, selected }: { dirs: string[]; tables: string[]; selected: string | undefined }) {
  if (dirs.length === 0 && tables.length === 0) return html`<p class="muted">No tables yet. Try <code>tessera demo</code>.</p>`
  return html`<nav class="tree" aria-label="dirs and tables"><${Branch} node=${buildTree(dirs, tables)} selected=${selected} /></nav>`
}
