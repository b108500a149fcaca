import { queryFromJson } from '../../api/index.ts'
import { toError } from '../../client/index.ts'
import { exportQuery } from '../../io/index.ts'
import type { Command } from '../command.ts'
import { JSON_OPTION, out, TARGET_HELP, TARGET_OPTIONS, UsageError } from '../command.ts'
import { intOption, parseJsonOption, printJson, printRows } from '../format.ts'
import { isRemote, withTarget } from '../target.ts'

// `tessera query`: the HTTP API's JSON query (POST /api/v1/query) from the shell, on a data dir or a server.

interface Answer {
  readonly columns: readonly { readonly name: string }[]
  readonly rows: readonly Record<string, unknown>[]
}

const MAX_LIMIT = 1_000_000

export const queryCommand: Command = {
  name: 'query',
  summary: 'run a query (the JSON form of POST /api/v1/query) and print the rows as a table, JSON, JSONL or CSV',
  usage: `tessera query TABLE[:version] ['{"where": ..., "select": ..., "orderBy": ...}'] [--limit 20] [--count] [--json | --jsonl | --csv] [--home DIR | --url URL --token T]`,
  options: {
    ...TARGET_OPTIONS, ...JSON_OPTION, jsonl: { type: 'boolean' }, csv: { type: 'boolean' }, count: { type: 'boolean' },
    limit: { type: 'string', short: 'n' }, query: { type: 'string', short: 'q' },
  },
  help: `The query is the JSON body of POST /api/v1/query without "table": "where", "select", "orderBy", "groupBy",
"limit", "offset", "distinct", "sample", "joins", and "head" or "tail" (the first or last n rows in insertion order). Expressions are {"col": name}, {"lit": value},
{"fn": name, "args": [...]}.

options:
  -q, --query JSON   the query (or give it as the second argument)
  -n, --limit N      at most N rows (default 20 for the table display; --json/--jsonl/--csv default to all rows)
  --count            print the number of matching rows only
  --json             {"columns": [...], "rows": [...]}
  --jsonl            one JSON object per row
  --csv              CSV with a header line
${TARGET_HELP}

examples:
  tessera query app/docs
  tessera query app/docs '{"where": {"fn": "gt", "args": [{"col": "id"}, {"lit": 10}]}, "select": {"id": {"col": "id"}}}'
  tessera query app/docs:3 --count
  tessera query app/docs '{"tail": 3}'
  tessera query app/docs --jsonl --url http://127.0.0.1:8080 --token $TOKEN > docs.jsonl`,
  async run(values, positionals) {
    const [table, inline, ...extra] = positionals
    if (!table) throw new UsageError('name the table to query')
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}' (quote the JSON query as one argument)`)
    if (inline !== undefined && values.query !== undefined) throw new UsageError('give the query either as an argument or with --query, not both')
    const text = inline ?? (values.query as string | undefined)
    const { head, tail, count: countKey, ...spec } = text === undefined ? {} : parseJsonOption('the query', text)
    // "count": true, as POST /api/v1/query takes it, is --count: it was ignored here (the rows shown) and, sent on to a
    // server, answered {"count": n}, which the table display then failed to read.
    if (countKey !== undefined && typeof countKey !== 'boolean') throw new UsageError(`"count" must be true or false, got ${JSON.stringify(countKey)}`)
    const count = !!values.count || countKey === true
    if ('table' in spec && spec.table !== table) throw new UsageError('the table is the first argument; leave "table" out of the JSON')
    // "head"/"tail": the first or last n rows in insertion order (Query.head/tail), as POST /api/v1/query takes them.
    const ends = endsOf(head, tail)
    if (ends && count) throw new UsageError(`"${ends.key}" picks rows to show; --count counts all matching rows: leave one out`)
    if (ends && (values.jsonl || values.csv)) throw new UsageError(`"${ends.key}" answers as the table display or --json; --jsonl/--csv stream the query ("limit" bounds them)`)
    const machine = values.json || values.jsonl || values.csv
    const display = !machine && !count && !ends
    const limit = intOption('--limit', values.limit as string | undefined, 0, MAX_LIMIT) ?? (typeof spec.limit === 'number' ? spec.limit : display ? 20 : undefined)
    // One row more than shown tells whether the table display left rows out.
    const body = { ...spec, table, ...(limit !== undefined ? { limit: display ? limit + 1 : limit } : {}) }

    // Rows as JSONL or CSV are streamed page by page (the way to read a big result, README says), written by
    // export's own writers: the same cells as `tessera export`, so null and "" differ in CSV and it imports back.
    if ((values.jsonl || values.csv) && !count && !values.json) {
      const format = values.jsonl ? 'jsonl' : 'csv'
      await withTarget(values, 'tessera query', async (db) => {
        if (!isRemote(db)) return void (await exportQuery(await queryFromJson(db, body), stdoutStream(), { format }))
        // A server streams the same export (POST /api/v1/export), pinned at one version.
        const res = await db.http.raw('POST', `/api/v1/export?format=${format}`, body)
        if (!res.ok) throw toError(res.status, await res.json().catch(() => undefined))
        if (res.body) await res.body.pipeTo(stdoutStream())
      }, { mustExist: true })
      return
    }

    const answer = await withTarget(values, 'tessera query', async (db): Promise<Answer | number> => {
      if (isRemote(db)) {
        if (ends) return db.http.request<Answer>('POST', '/api/v1/query', { ...body, [ends.key]: ends.n })
        if (count) return (await db.http.request<{ count: number }>('POST', '/api/v1/query', { ...body, count: true })).count
        return db.http.request<Answer>('POST', '/api/v1/query', body)
      }
      const query = await queryFromJson(db, body)
      if (ends) return (await (ends.key === 'head' ? query.head(ends.n) : query.tail(ends.n))).toJSON()
      if (count) return query.count()
      return (await query.collect()).toJSON()
    }, { mustExist: true })
    if (typeof answer === 'number') return out(String(answer))
    if (values.json) return printJson(answer)
    const columns = answer.columns.map((c) => c.name)
    const more = limit !== undefined && answer.rows.length > limit
    const rows = more ? answer.rows.slice(0, limit) : answer.rows
    printRows(rows, columns)
    out(`(${rows.length} row${rows.length === 1 ? '' : 's'}${more ? `; more match: --limit N shows more, --count counts them` : ''})`)
  },
}

/** The query's "head" or "tail" (at most one): a row count. */
function endsOf(head: unknown, tail: unknown): { key: 'head' | 'tail'; n: number } | undefined {
  if (head === undefined && tail === undefined) return undefined
  if (head !== undefined && tail !== undefined) throw new UsageError('give "head" or "tail" in the query, not both')
  const [key, n] = head !== undefined ? ['head', head] as const : ['tail', tail] as const
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_LIMIT) throw new UsageError(`"${key}" must be a row count from 0 to ${MAX_LIMIT}, got ${JSON.stringify(n)}`)
  return { key, n }
}

/** Standard output as a WritableStream that waits for 'drain': a big result is written as fast as it is read, not buffered. */
function stdoutStream(): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve, reject) => {
      const ok = process.stdout.write(chunk, (e) => (e ? reject(e) : undefined))
      if (ok) resolve()
      else process.stdout.once('drain', resolve)
    }),
  })
}
