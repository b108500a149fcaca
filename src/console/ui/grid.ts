import { html } from './html.ts'
import { Cell } from './cells.ts'
import type { Result } from './api.ts'

// A result grid. Columns named `<col>#errortype` / `<col>#errormsg` are folded into their column's cells as badges.

export const ERR_TYPE = '#errortype'
export const ERR_MSG = '#errormsg'

export interface GridProps {
  readonly table: string
  readonly result: Result
  /** Names of stored media columns of `table` (their cells can be served). */
  readonly mediaColumns?: ReadonlySet<string>
  readonly caption?: string
  readonly rowStatus?: (i: number) => unknown
}

export function Grid({ table, result, mediaColumns, caption }: GridProps) {
  const shown = result.columns.filter((c) => !c.name.endsWith(ERR_TYPE) && !c.name.endsWith(ERR_MSG))
  if (result.rows.length === 0) return html`<p class="empty">No rows.</p>`
  return html`
    <div class="grid-wrap" tabindex="0" role="region" aria-label=${caption ?? 'rows'}>
      <table class="grid">
        ${caption ? html`<caption>${caption}</caption>` : null}
        <thead><tr>${shown.map((c) => html`<th scope="col"><span class="col-name">${c.name}</span><span class="col-type">${c.type}</span></th>`)}</tr></thead>
        <tbody>
          ${result.rows.map((r) => html`<tr>${shown.map((c) => {
            const et = r[`${c.name}${ERR_TYPE}`]
            const error = typeof et === 'string' ? { type: et, msg: String(r[`${c.name}${ERR_MSG}`] ?? '') } : undefined
            return html`<td class=${`t-${c.type.replace(/[^a-z]/g, '')}`}><${Cell} table=${table} column=${c} value=${r[c.name]} error=${error} mediaColumn=${mediaColumns ? mediaColumns.has(c.name) : true} /></td>`
          })}</tr>`)}
        </tbody>
      </table>
    </div>`
}
