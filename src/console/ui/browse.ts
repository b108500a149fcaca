import { useEffect, useState } from 'preact/hooks'
import { html } from './html.ts'
import { countRows, runQuery } from './api.ts'
import type { Result, TableInfo } from './api.ts'
import { ERR_MSG, ERR_TYPE, Grid } from './grid.ts'
import { ErrorBox } from './ui.ts'
import { colNode } from '../../client/index.ts'
import type { ColNode } from '../../client/index.ts'

// Rows, one page at a time, paged by the server (offset/limit in the query), with computed-cell errors.

const PAGE = 25

/**
 * A `{ name: expr }` select of every column plus, for each computed column, its cell error as two more outputs,
 * `<col>#errortype` and `<col>#errormsg`, which the grid folds into that column's cells as badges. The Rows tab
 * reads pages with it and the Query tab sends (and shows) it, so both grids show the same badges.
 */
export function selectWithErrors(info: TableInfo): Record<string, ColNode> {
  const select: Record<string, ColNode> = {}
  for (const c of info.columns) {
    select[c.name] = colNode(c.name)
    if (c.computedWith) {
      select[`${c.name}${ERR_TYPE}`] = colNode(c.name, undefined, 'errortype')
      select[`${c.name}${ERR_MSG}`] = colNode(c.name, undefined, 'errormsg')
    }
  }
  return select
}

export const mediaColumnsOf = (info: TableInfo): Set<string> =>
  new Set(info.columns.filter((c) => /^(image|audio|video|document)\??$/.test(c.type)).map((c) => c.name))

export function Browse({ info }: { info: TableInfo }) {
  const [page, setPage] = useState(0)
  const [result, setResult] = useState<Result | undefined>()
  const [total, setTotal] = useState<number | undefined>()
  const [error, setError] = useState<unknown>()
  useEffect(() => setPage(0), [info.path])
  useEffect(() => {
    let live = true
    setError(undefined)
    Promise.all([
      runQuery({ table: info.path, select: selectWithErrors(info), offset: page * PAGE, limit: PAGE }),
      countRows(info.path),
    ]).then(([r, c]) => { if (live) { setResult(r); setTotal(c.count) } }, (e) => live && setError(e))
    return () => { live = false }
  }, [info.path, info.version, page])
  const pages = total === undefined ? 1 : Math.max(1, Math.ceil(total / PAGE))
  return html`
    <section aria-label="rows">
      <div class="pager">
        <button type="button" onClick=${() => setPage(page - 1)} disabled=${page === 0}>← Prev</button>
        <span class="page-info" aria-live="polite">Page ${page + 1} of ${pages}${total !== undefined ? ` · ${total} rows` : ''}</span>
        <button type="button" onClick=${() => setPage(page + 1)} disabled=${page + 1 >= pages}>Next →</button>
      </div>
      <${ErrorBox} error=${error} />
      ${result ? html`<${Grid} table=${info.path} result=${result} mediaColumns=${mediaColumnsOf(info)} caption=${`${info.path} rows`} />` : html`<p class="loading">Loading…</p>`}
    </section>`
}
