import { toJsonSchema } from '@valibot/to-json-schema'
import type * as v from 'valibot'
import { ErrorAnswerSchema } from '../api/index.ts'
import type { ParamSpec, ParamSpecs } from '../api/index.ts'
import { ExprNodeSchema } from '../query/index.ts'

// /openapi.json is generated from the API contract the routes validate with (src/api: request bodies, query-string
// parameters and answers), so the document cannot drift from what the server accepts.

export interface OperationDoc {
  readonly method: 'get' | 'post' | 'patch' | 'delete'
  /** OpenAPI path; {path} is a table or dir path (slashes allowed, 'dir/t:3' for a version). */
  readonly path: string
  readonly summary: string
  readonly tag: string
  readonly body?: v.GenericSchema
  /** Query-string parameters with their bounds (src/api/params.ts). */
  readonly params?: ParamSpecs
  readonly success?: number
  /** The answer's schema, from the API contract (src/api/answers.ts). */
  readonly answer?: v.GenericSchema
}

/** A query-string parameter's JSON Schema: its type, bounds, values and default. */
function paramSchema(p: ParamSpec): Record<string, unknown> {
  const dflt = 'default' in p && p.default !== undefined ? { default: p.default } : {}
  switch (p.kind) {
    case 'int': return { type: 'integer', minimum: p.min, maximum: p.max, ...dflt }
    case 'bool': return { type: 'boolean' }
    case 'enum': return { type: 'string', enum: [...p.values], ...dflt }
    case 'string': return { type: 'string', maxLength: p.maxLength }
  }
}

const ERROR = {
  description: 'Error with a stable code',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
}

/** JSON Schema $defs become OpenAPI components ('0' is the recursive expression node). */
const toComponentRefs = (x: unknown): unknown =>
  JSON.parse(JSON.stringify(x).replaceAll('"#/$defs/0"', '"#/components/schemas/ExprNode"').replaceAll('"#/$defs/', '"#/components/schemas/'))

function schemaOf(schema: v.GenericSchema, defs: Record<string, unknown>): unknown {
  const json = toJsonSchema(schema, { definitions: { Expr: ExprNodeSchema }, errorMode: 'ignore' }) as Record<string, unknown>
  const { $schema: _s, $defs, ...rest } = json
  for (const [k, d] of Object.entries(($defs ?? {}) as Record<string, unknown>)) defs[k === '0' ? 'ExprNode' : k] = toComponentRefs(d)
  return toComponentRefs(rest)
}

export function openApiDocument(ops: readonly OperationDoc[], version: string): Record<string, unknown> {
  const defs: Record<string, unknown> = {}
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of ops) {
    const params = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(op.params ?? {}).map(([name, p]) => ({ name, in: 'query', required: !!p.required, schema: paramSchema(p) })),
    ]
    paths[op.path] ??= {}
    paths[op.path]![op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body, defs) } } } } : {}),
      responses: {
        [String(op.success ?? 200)]: { description: 'OK', content: { 'application/json': { schema: op.answer ? schemaOf(op.answer, defs) : { type: 'object' } } } },
        '400': ERROR, '401': ERROR, '403': ERROR, '404': ERROR, '409': ERROR,
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tessera', version, description: 'Multimodal tables with computed columns, versions and embedding search. Expressions are JSON trees: {"col": name}, {"lit": value}, {"fn": name, "args": [...], "opts": {...}}.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...defs,
        Error: schemaOf(ErrorAnswerSchema, defs),
      },
    },
    security: [{ bearer: [] }],
    paths,
  }
}
