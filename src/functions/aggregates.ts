import { formatType, isNumeric } from '../types/index.ts'
import { aggregate, t, typeError, compareValues } from '../query/index.ts'

// Aggregates for group_by: each has SQL and a TypeScript implementation (used when the argument is computed in TS).

aggregate({
  name: 'count', minArgs: 0, maxArgs: 1,
  returnType: () => t('int'),
  sql: (args) => (args.length === 0 ? 'count(*)' : `count(${args[0]!.sql})`),
  aggregate: {
    init: () => 0,
    step: (n, args) => (args.length === 0 || (args[0] !== null && args[0] !== undefined) ? (n as number) + 1 : n),
    final: (n) => n,
  },
  nullSafe: true,
})

aggregate({
  name: 'sum', minArgs: 1, maxArgs: 1,
  returnType: ([a], node) => {
    if (!isNumeric(a!)) throw typeError(node, `sum() needs numbers, got ${formatType(a!)}`)
    return t(a!.kind, true)
  },
  sql: ([a]) => (a!.type.kind === 'int' ? `sum(${a!.sql})::bigint` : `sum(${a!.sql})`),
  aggregate: {
    init: () => null as number | null,
    step: (s, [x]) => (x === null || x === undefined ? s : ((s as number | null) ?? 0) + (x as number)),
    final: (s) => s,
  },
  nullSafe: true,
})

for (const [name, sign] of [['min', -1], ['max', 1]] as const) {
  aggregate({
    name, minArgs: 1, maxArgs: 1,
    returnType: ([a], node) => {
      if (['json', 'binary', 'array'].includes(a!.kind)) throw typeError(node, `${name}() cannot order ${formatType(a!)}`)
      return { ...a!, nullable: true }
    },
    sql: ([a]) => `${name}(${a!.sql})`,
    aggregate: {
      init: () => null as unknown,
      step: (s, [x]) => (x === null || x === undefined ? s : s === null || compareValues(x, s) * sign > 0 ? x : s),
      final: (s) => s,
    },
    nullSafe: true,
  })
}

aggregate({
  name: 'mean', minArgs: 1, maxArgs: 1,
  returnType: ([a], node) => {
    if (!isNumeric(a!)) throw typeError(node, `mean() needs numbers, got ${formatType(a!)}`)
    return t('float', true)
  },
  sql: ([a]) => `avg(${a!.sql})::double precision`,
  aggregate: {
    init: () => ({ sum: 0, n: 0 }),
    step: (s, [x]) => {
      const st = s as { sum: number; n: number }
      return x === null || x === undefined ? st : { sum: st.sum + (x as number), n: st.n + 1 }
    },
    final: (s) => ((s as { n: number }).n === 0 ? null : (s as { sum: number }).sum / (s as { n: number }).n),
  },
  nullSafe: true,
})

aggregate({
  name: 'make_list', minArgs: 1, maxArgs: 1,
  returnType: () => t('json'),
  sql: ([a]) => `coalesce(jsonb_agg(${a!.sql}), '[]'::jsonb)`,
  aggregate: {
    init: () => [] as unknown[],
    step: (s, [x]) => [...(s as unknown[]), x ?? null],
    final: (s) => s,
  },
  nullSafe: true,
})

aggregate({
  name: 'count_distinct', minArgs: 1, maxArgs: 1,
  returnType: () => t('int'),
  sql: ([a]) => `count(distinct ${a!.sql})`,
  aggregate: {
    init: () => new Set<string>(),
    step: (s, [x]) => (x === null || x === undefined ? s : (s as Set<string>).add(JSON.stringify(x))),
    final: (s) => (s as Set<string>).size,
  },
  nullSafe: true,
})
