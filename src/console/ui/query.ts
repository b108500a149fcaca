import { useState } from 'preact/hooks'
import { html } from './html.ts'
import { runQuery } from './api.ts'
import type { ColumnInfo, QueryRequest, Result, TableInfo } from './api.ts'
import { mediaColumnsOf, selectWithErrors } from './browse.ts'
import { Grid } from './grid.ts'
import { ErrorBox, JsonBlock } from './ui.ts'
import { colNode, fnNode, litNode } from '../../client/index.ts'

// A filter / order / limit builder. It produces the JSON body POST /api/v1/query takes and shows it, so what a user
// clicks together here is what they would send from any language. Results go to the same grid as the Rows tab,
// with the same per-cell error badges for computed columns.

interface Cond { column: string; op: string; value: string }

const OPS: { op: string; label: string; unary?: boolean; kinds?: string[] }[] = [
  { op: 'eq', label: '=' }, { op: 'ne', label: '≠' }, { op: 'gt', label: '>' }, { op: 'ge', label: '≥' },
  { op: 'lt', label: '<' }, { op: 'le', label: '≤' },
  { op: 'contains', label: 'contains', kinds: ['string'] }, { op: 'startswith', label: 'starts with', kinds: ['string'] },
  { op: 'is_null', label: 'is null', unary: true }, { op: 'is_not_null', label: 'is not null', unary: true },
]

const kindOf = (c: ColumnInfo | undefined): string => (c?.type ?? 'string').replace(/\?$/, '').replace(/[<[].*$/, '')

/** A typed literal from what was typed in the value box. */
export function literal(c: ColumnInfo | undefined, text: string): unknown {
  const kind = kindOf(c)
  if (kind === 'int' || kind === 'float') return text.trim() === '' || Number.isNaN(Number(text)) ? text : Number(text)
  if (kind === 'bool') return text === 'true' ? true : text === 'false' ? false : text
  if (kind === 'json' || kind === 'array') { try { return JSON.parse(text) } catch { return text } }
  return text
}

export function buildQuery(info: TableInfo, conds: Cond[], join: 'and' | 'or', order: { column: string; desc: boolean }, limit: number): QueryRequest {
  const preds = conds.filter((c) => c.column).map((c) => {
    const col = colNode(c.column)
    const meta = OPS.find((o) => o.op === c.op)!
    return meta.unary ? fnNode(c.op, [col]) : fnNode(c.op, [col, litNode(literal(info.columns.find((x) => x.name === c.column), c.value))])
  })
  const where = preds.length === 0 ? undefined : preds.length === 1 ? preds[0] : fnNode(join, preds)
  return {
    table: info.path,
    ...(where ? { where } : {}),
    ...(order.column ? { orderBy: [{ expr: colNode(order.column), ...(order.desc ? { desc: true } : {}) }] } : {}),
    limit,
    // Without a select the API returns the visible columns; a table with computed columns lists them all so that it
    // can add each computed column's errortype/errormsg for the grid's error badges. Last, so that the part the user
    // built (where, order, limit) is what the shown JSON starts with.
    ...(info.columns.some((c) => c.computedWith) ? { select: selectWithErrors(info) } : {}),
  }
}

export function QueryView({ info }: { info: TableInfo }) {
  const first = info.columns[0]?.name ?? ''
  const [conds, setConds] = useState<Cond[]>([{ column: first, op: 'eq', value: '' }])
  const [join, setJoin] = useState<'and' | 'or'>('and')
  const [order, setOrder] = useState({ column: '', desc: false })
  const [limit, setLimit] = useState(50)
  const [result, setResult] = useState<Result | undefined>()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const body = buildQuery(info, conds, join, order, limit)
  const set = (i: number, patch: Partial<Cond>) => setConds(conds.map((c, j) => (j === i ? { ...c, ...patch } : c)))
  const run = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try { setResult(await runQuery(body)) } catch (err) { setError(err); setResult(undefined) } finally { setBusy(false) }
  }
  return html`
    <section aria-label="query builder">
      <form class="builder" onSubmit=${run}>
        <fieldset>
          <legend>Filter</legend>
          ${conds.map((c, i) => {
            const col = info.columns.find((x) => x.name === c.column)
            const ops = OPS.filter((o) => !o.kinds || o.kinds.includes(kindOf(col)))
            const unary = OPS.find((o) => o.op === c.op)?.unary
            return html`<div class="cond">
              ${i > 0 ? html`<span class="join">${join}</span>` : null}
              <select aria-label="column" value=${c.column} onChange=${(e: Event) => set(i, { column: (e.target as HTMLSelectElement).value })}>
                ${info.columns.map((x) => html`<option value=${x.name}>${x.name}</option>`)}
              </select>
              <select aria-label="operator" value=${c.op} onChange=${(e: Event) => set(i, { op: (e.target as HTMLSelectElement).value })}>
                ${ops.map((o) => html`<option value=${o.op}>${o.label}</option>`)}
              </select>
              ${unary ? null : html`<input aria-label="value" class="value" value=${c.value} onInput=${(e: Event) => set(i, { value: (e.target as HTMLInputElement).value })} placeholder=${kindOf(col)} />`}
              <button type="button" class="icon" aria-label="remove condition" onClick=${() => setConds(conds.filter((_, j) => j !== i))}>✕</button>
            </div>`
          })}
          <div class="row-actions">
            <button type="button" onClick=${() => setConds([...conds, { column: first, op: 'eq', value: '' }])}>+ Condition</button>
            ${conds.length > 1 ? html`<label>Combine <select value=${join} onChange=${(e: Event) => setJoin((e.target as HTMLSelectElement).value as 'and' | 'or')}><option value="and">all (and)</option><option value="or">any (or)</option></select></label>` : null}
          </div>
        </fieldset>
        <fieldset class="inline">
          <legend>Order and limit</legend>
          <label>Order by <select value=${order.column} onChange=${(e: Event) => setOrder({ ...order, column: (e.target as HTMLSelectElement).value })}>
            <option value="">(none)</option>${info.columns.map((x) => html`<option value=${x.name}>${x.name}</option>`)}
          </select></label>
          <label><input type="checkbox" checked=${order.desc} onChange=${(e: Event) => setOrder({ ...order, desc: (e.target as HTMLInputElement).checked })} /> descending</label>
          <label>Limit <input type="number" min="0" max="10000" class="num-input" value=${limit} onInput=${(e: Event) => setLimit(Number((e.target as HTMLInputElement).value) || 0)} /></label>
          <button type="submit" class="primary" disabled=${busy}>Run query</button>
        </fieldset>
      </form>
      <${JsonBlock} label="POST /api/v1/query" value=${body} />
      <${ErrorBox} error=${error} />
      ${result ? html`<p class="count" aria-live="polite">${result.rows.length} row${result.rows.length === 1 ? '' : 's'}</p><${Grid} table=${info.path} result=${result} mediaColumns=${mediaColumnsOf(info)} caption="query result" />` : null}
    </section>`
}
