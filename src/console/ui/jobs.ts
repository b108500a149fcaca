import { useEffect, useState } from 'preact/hooks'
import { html } from './html.ts'
import { api, canWrite, jobEventsUrl } from './api.ts'
import type { Job, JobListAnswer, Principal } from './api.ts'
import { ErrorBox } from './ui.ts'

// Background jobs with live progress: one EventSource per running job (/jobs/:id/events; EventSource cannot send
// headers, so the token rides in the query string), and cancel for tokens that may write the job's table.


function useJobEvents(job: Job, onUpdate: (j: Job) => void) {
  useEffect(() => {
    if (job.status !== 'running') return
    const es = new EventSource(jobEventsUrl(job.id, 300))
    es.addEventListener('progress', (e) => onUpdate(JSON.parse((e as MessageEvent).data)))
    es.addEventListener('end', () => es.close())
    es.onerror = () => es.close()
    return () => es.close()
  }, [job.id, job.status])
}

function JobRow({ job, principal, onUpdate }: { job: Job; principal: Principal | undefined; onUpdate: (j: Job) => void }) {
  const [error, setError] = useState<unknown>()
  useJobEvents(job, onUpdate)
  const pct = job.rowsTotal > 0 ? Math.round((100 * job.rowsDone) / job.rowsTotal) : job.status === 'done' ? 100 : 0
  const cancel = async () => {
    try { onUpdate(await api<Job>('POST', `/jobs/${job.id}/cancel`)) } catch (e) { setError(e) }
  }
  return html`<li class=${`job ${job.status}`} data-job=${job.id}>
    <div class="job-head"><strong title=${job.id}>#${job.id.slice(0, 8)}</strong> <span>${job.kind.replaceAll('_', ' ')}</span> <code>${job.table}.${job.column}</code>${job.index ? html` <span>index <code>${job.index}</code></span>` : null} <span class=${`status s-${job.status}`}>${job.status}</span></div>
    <div class="progress-line">
      <progress max="100" value=${pct} aria-label=${`job ${job.id.slice(0, 8)} progress`}></progress>
      <span class="job-count">${job.rowsDone} / ${job.rowsTotal} rows (${pct}%)</span>
      ${job.status === 'running' && canWrite(principal, job.table) ? html`<button type="button" class="danger" onClick=${cancel}>Cancel</button>` : null}
    </div>
    ${job.error ? html`<div class="error">${job.error}</div>` : null}
    <${ErrorBox} error=${error} />
  </li>`
}

export function JobsView({ principal }: { principal: Principal | undefined }) {
  const [jobs, setJobs] = useState<Job[] | undefined>()
  const [error, setError] = useState<unknown>()
  // The API lists jobs oldest first.
  const load = () => api<JobListAnswer>('GET', '/jobs').then((r) => setJobs([...r.jobs].reverse()), setError)
  useEffect(() => { void load() }, [])
  const update = (j: Job) => setJobs((js) => js?.map((x) => (x.id === j.id ? { ...x, ...j } : x)))
  return html`<section aria-label="jobs" class="jobs">
    <div class="row-actions"><h2>Background jobs</h2><button type="button" onClick=${load}>Refresh</button></div>
    <${ErrorBox} error=${error} />
    ${jobs === undefined ? html`<p class="loading">Loading…</p>` : jobs.length === 0 ? html`<p class="empty">No jobs. Start one with <code>POST /api/v1/jobs</code>.</p>` : html`<ul class="job-list">${jobs.map((j) => html`<${JobRow} key=${j.id} job=${j} principal=${principal} onUpdate=${update} />`)}</ul>`}
  </section>`
}
