// Embedding and vector-search benchmark. Run: npx bun bench/embedding.ts [N=10000]
// Prints Tessera's figures beside same-run baselines: a raw onnxruntime loop for embedding throughput, raw pgvector
// SQL on the same PGlite and exact (brute-force) search for latency and recall@10.
import { join } from 'node:path'
import { Tessera, embedders } from '../src/index.ts'
import { defaultQuantization } from '../src/index/ann/index.ts'
import { embedValues } from '../src/inference/index.ts'
import { imageEmbed, preprocessImage } from '../src/inference/image.ts'
import { lexicalFeatures, lexicalModel } from '../src/inference/lexical.ts'
import { getSession } from '../src/inference/runtime.ts'
import { dataTable, MAX_VERSION, valueColumn } from '../src/query/sql.ts'

const N = Number(process.argv[2] ?? process.env.BENCH_N ?? 10_000)
const QUERIES = 200
const K = 10
const MODELS = process.env.TESSERA_TEST_MODELS ?? join(import.meta.dir, '../../shared/models')

const WORDS = ('time year people way day man thing woman life child world school state family student group country problem hand part place case week company system program question work government number night point home water room mother area money story fact month lot right study book eye job word business issue side kind head house service friend father power hour game line end member law car city community name president team minute idea kid body information back parent face others level office door health person art war history party result change morning reason research girl guy moment air teacher force education').split(' ')
let seed = 42
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const sentence = (n = 8) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!
const fmt = (x: number) => x.toFixed(2)
const time = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now()
  const r = await fn()
  return [r, performance.now() - t0]
}

// `npx bun bench/embedding.ts ann [N=20000] [clustered,random] [default|f32|f16|i8] [reps=1]`: vector search only —
// Tessera's native index (with that quantization; default: none named, so cosine's default, f16) against hnswlib-node
// and LanceDB HNSW-SQ on the same generated 384-d vectors (random and clustered), each built in its own process; with
// reps > 1 every figure is the median of that many builds.
if (process.argv[2] === 'ann') {
  await annComparison(Number(process.argv[3] ?? 20_000), (process.argv[4] ?? 'clustered,random').split(','), process.argv[5] ?? 'default', Number(process.argv[6] ?? 1))
  process.exit(0)
}
// `npx bun bench/embedding.ts insert [N=50000]`: an insert into a table with a lexical index against the same
// insert into the same table without one, and the embedding alone (the rest is storing the vectors in PGlite).
if (process.argv[2] === 'insert') {
  await insertComparison(Number(process.argv[3] ?? 50_000))
  process.exit(0)
}

// ---------------------------------------------------------------- embedding throughput
{
  const texts = Array.from({ length: 5000 }, () => sentence(12))
  await embedValues(embedders.lexical(), texts.slice(0, 10)) // warm: session creation is not throughput
  const bytes = lexicalModel()
  const { session } = await getSession(bytes, { key: 'bench:raw', provider: 'cpu' })
  const ort = await import('onnxruntime-node')
  // Alternate the two, best of 3 each: the machine is shared, so single runs are noisy.
  let tessera = Infinity, raw = Infinity
  for (let round = 0; round < 3; round++) {
  tessera = Math.min(tessera, (await time(() => embedValues(embedders.lexical(), texts)))[1])
  raw = Math.min(raw, (await time(async () => {
    for (let i = 0; i < texts.length; i += 256) {
      const slice = texts.slice(i, i + 256)
      const feats = slice.map((t) => lexicalFeatures(t))
      const width = Math.max(...feats.map((f) => f.size))
      const ids = new BigInt64Array(slice.length * width)
      const w = new Float32Array(slice.length * width)
      feats.forEach((f, r) => {
        let j = r * width
        for (const [b, x] of f) (ids[j] = BigInt(b)), (w[j++] = x)
      })
      await session.run({ ids: new ort.Tensor('int64', ids, [slice.length, width]), weights: new ort.Tensor('float32', w, [slice.length, width]) } as never)
    }
  }))[1])
  }
  console.log(`lexical embed, ${texts.length} texts: tessera ${fmt(texts.length / (tessera / 1000))}/s, raw onnxruntime ${fmt(texts.length / (raw / 1000))}/s, ratio ${fmt(raw / tessera)}`)

  const model = join(MODELS, 'mobilenetv2/mobilenetv2-12-int8.onnx')
  const photos = ['dog', 'eagle', 'giraffe', 'horses', 'person', 'kite', 'scream'].map((n) => join(MODELS, 'testdata', `${n}.jpg`))
  const images = Array.from({ length: 64 }, (_, i) => photos[i % photos.length]!)
  await imageEmbed(model, images.slice(0, 2))
  const [, tImg] = await time(() => imageEmbed(model, images))
  const img = await getSession(model, { provider: 'cpu' })
  const [, rImg] = await time(async () => {
    for (let i = 0; i < images.length; i += 16) {
      const slice = images.slice(i, i + 16)
      const pre = await Promise.all(slice.map((p) => preprocessImage(p)))
      const batch = new Float32Array(pre.length * 3 * 224 * 224)
      pre.forEach((x, j) => batch.set(x.data, j * 3 * 224 * 224))
      await img.session.run({ input: new ort.Tensor('float32', batch, [pre.length, 3, 224, 224]) } as never)
    }
  })
  console.log(`image embed (mobilenetv2 int8), ${images.length} images: tessera ${fmt(images.length / (tImg / 1000))}/s, raw onnxruntime+sharp ${fmt(images.length / (rImg / 1000))}/s, ratio ${fmt(rImg / tImg)}`)
}

// ---------------------------------------------------------------- search
const db = await Tessera.memory()
const t = await db.createTable('docs', { id: 'int', text: 'string', cat: 'int' }, { primaryKey: 'id' })
const rows = Array.from({ length: N }, (_, i) => ({ id: i, text: sentence(10), cat: i % 10 }))
const [, tIns] = await time(() => t.insert(rows))
const [, tIdx] = await time(() => t.addEmbeddingIndex('text', { embed: embedders.lexical(), metric: 'cosine', name: 'lex' }))
console.log(`N=${N}: insert ${fmt(tIns / 1000)} s, addEmbeddingIndex (embed backfill + HNSW build) ${fmt(tIdx / 1000)} s`)
const MORE = 200
const extra = Array.from({ length: MORE }, (_, i) => ({ id: N + i, text: sentence(10), cat: i % 10 }))
const [, tIns2] = await time(() => t.insert(extra))
console.log(`insert ${MORE} more rows with the index maintained: ${fmt(tIns2)} ms (pgvector HNSW inserts dominate; see bench/embedding-hnsw-insert.ts)`)
await db.driver.exec('analyze')

const idx = t.md.indexes![0]!
const vcol = valueColumn(idx.valueColumnId)
const all = (await db.driver.query<{ r: number; v: number[]; cat: number }>(`select _rowid as r, ${vcol} as v, ${valueColumn(t.md.columns.find((c) => c.name === 'cat')!.id)} as cat from ${dataTable(t.id)} where _v_max = ${MAX_VERSION}`)).rows
const idOf = new Map<number, number>()
const idRows = (await db.driver.query<{ r: number; id: number }>(`select _rowid as r, ${valueColumn(t.md.columns.find((c) => c.name === 'id')!.id)}::int as id from ${dataTable(t.id)} where _v_max = ${MAX_VERSION}`)).rows
for (const r of idRows) idOf.set(Number(r.r), r.id)
const queries = await embedValues(embedders.lexical(), Array.from({ length: QUERIES }, () => sentence(4)))

function exact(q: number[], filter?: number): number[] {
  const scored = all.filter((r) => filter === undefined || Number(r.cat) === filter).map((r) => {
    let d = 0
    for (let i = 0; i < q.length; i++) d += q[i]! * r.v[i]!
    return [idOf.get(Number(r.r))!, d] as const
  })
  return scored.sort((a, b) => b[1] - a[1]).slice(0, K).map((x) => x[0])
}
const recall = (got: number[], truth: number[]) => got.filter((x) => truth.includes(x)).length / truth.length

async function run(label: string, filter?: number) {
  const lat: number[] = [], rawLat: number[] = [], exLat: number[] = []
  let rec = 0, rawRec = 0, short = 0, rawShort = 0
  const idCol = valueColumn(t.md.columns.find((c) => c.name === 'id')!.id)
  const catCol = valueColumn(t.md.columns.find((c) => c.name === 'cat')!.id)
  for (const q of queries) {
    const sim = t.c.text.similarity({ vector: q })
    const base = filter === undefined ? t.query() : t.where(t.c.cat.eq(filter))
    const [res, ms] = await time(() => base.orderBy(sim, 'desc').limit(K).select({ id: t.c.id }).collect())
    lat.push(ms)
    const sql = `select ${idCol}::int as id from ${dataTable(t.id)} where _v_max = ${MAX_VERSION}${filter === undefined ? '' : ` and ${catCol} = ${filter}`} order by (${vcol}::vector(${idx.dims})) <=> $1::vector(${idx.dims}) limit ${K}`
    const [raw, rms] = await time(() => db.driver.query<{ id: number }>(sql, [`[${q.join(',')}]`]))
    rawLat.push(rms)
    const [truth, ems] = await time(async () => exact(q, filter))
    exLat.push(ems)
    const got = res.rows.map((r) => r.id as number)
    if (got.length < K) short++
    rec += recall(got, truth)
    rawRec += recall(raw.rows.map((r) => r.id), truth)
    if (raw.rows.length < K) rawShort++
  }
  console.log(`${label}: tessera p50 ${fmt(pct(lat, 50))} ms p99 ${fmt(pct(lat, 99))} ms recall@10 ${fmt(rec / QUERIES)} (${short} short results) | raw pgvector SQL p50 ${fmt(pct(rawLat, 50))} ms p99 ${fmt(pct(rawLat, 99))} ms recall@10 ${fmt(rawRec / QUERIES)} (${rawShort} short) | exact JS scan p50 ${fmt(pct(exLat, 50))} ms | tessera/raw p50 ratio ${fmt(pct(lat, 50) / pct(rawLat, 50))}`)
}
await run(`top-${K} of ${N + MORE}`)
await run(`filtered top-${K} (cat = 3, 10%)`, 3)

// Hybrid search: Tessera's hybridSearch against the same two queries in raw SQL on the same PGlite (full text on the
// GIN expression index, pgvector on HNSW) fused in a few lines of JS; and the raw full-text side with the index
// disabled, which is what hybrid search paid before text indexes brought a full-text index.
{
  const HQ = 50
  const texts = Array.from({ length: HQ }, () => sentence(2))
  await t.hybridSearch(texts[0]!, { column: 'text', k: K }) // warm
  const textCol = valueColumn(t.md.columns.find((c) => c.name === 'text')!.id)
  const idCol = valueColumn(t.md.columns.find((c) => c.name === 'id')!.id)
  const n = K * 4
  const ftsSql = `select _rowid as r, ${idCol}::int as id from ${dataTable(t.id)} where _v_max = ${MAX_VERSION} and to_tsvector('english'::regconfig, ${textCol}) @@ websearch_to_tsquery('english'::regconfig, $1)
    order by ts_rank_cd(to_tsvector('english'::regconfig, ${textCol}), websearch_to_tsquery('english'::regconfig, $1)) desc limit ${n}`
  const vecSql = `select _rowid as r, ${idCol}::int as id from ${dataTable(t.id)} where _v_max = ${MAX_VERSION} order by (${vcol}::vector(${idx.dims})) <=> $1::vector(${idx.dims}) limit ${n}`
  const lat: number[] = [], rawLat: number[] = [], noIdx: number[] = []
  for (const q of texts) {
    lat.push((await time(() => t.hybridSearch(q, { column: 'text', k: K })))[1])
    rawLat.push((await time(async () => {
      const [v] = await embedValues(embedders.lexical(), [q])
      const [a, b] = await Promise.all([db.driver.query<{ r: number; id: number }>(ftsSql, [q]), db.driver.query<{ r: number; id: number }>(vecSql, [`[${v!.join(',')}]`])])
      const score = new Map<number, number>()
      for (const side of [a.rows, b.rows]) side.forEach((row, i) => score.set(Number(row.r), (score.get(Number(row.r)) ?? 0) + 1 / (61 + i)))
      return [...score.entries()].sort((x, y) => y[1] - x[1]).slice(0, K)
    }))[1])
  }
  await db.driver.exec('set enable_bitmapscan = off; set enable_indexscan = off')
  for (const q of texts.slice(0, 5)) noIdx.push((await time(() => db.driver.query(ftsSql, [q])))[1])
  await db.driver.exec('reset enable_bitmapscan; reset enable_indexscan')
  console.log(`hybrid search (2-word queries, k=${K}): tessera p50 ${fmt(pct(lat, 50))} ms p99 ${fmt(pct(lat, 99))} ms | raw SQL (both sides + JS fusion) p50 ${fmt(pct(rawLat, 50))} ms p99 ${fmt(pct(rawLat, 99))} ms | tessera/raw p50 ratio ${fmt(pct(lat, 50) / pct(rawLat, 50))} | raw full-text side without its GIN index p50 ${fmt(pct(noIdx, 50))} ms`)
}

const [, textMs] = await time(() => t.orderBy(t.c.text.similarity('family house money'), 'desc').limit(K).select('id').collect())
console.log(`text query incl. embedding (first call, then cached): ${fmt(textMs)} ms`)
await db.close()

async function annComparison(n: number, kinds: string[], quantization: string, reps: number): Promise<void> {
  const { spawnSync } = await import('node:child_process')
  const { loadavg } = await import('node:os')
  const peers = ['tessera', 'hnswlib', 'lancedb'] as const
  type Result = { p50: number; recall: number; short: number }
  type Out = { buildMs: number; rssMb: number; diskMb: number; scalarIndexMs: number; efs: { name: string; ef: number }[]; results: Record<string, Result> }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  console.log(`vector search, ${n} x 384, top-10, M=16 efConstruction=64, Tessera ${quantization === 'default' ? `default quantization (${defaultQuantization('cosine')})` : quantization} (LanceDB: IVF_HNSW_SQ, 1 partition; filter column indexed: Tessera addScalarIndex, LanceDB btree), ${reps} rep(s), medians; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  for (const kind of kinds) {
    const outs: Record<string, Out[]> = { tessera: [], hnswlib: [], lancedb: [] }
    // Peers alternate within each repetition, so a swing of the machine's load falls on all of them.
    for (let rep = 0; rep < reps; rep++) {
      for (const peer of peers) {
        const r = spawnSync(process.execPath, [join(import.meta.dir, 'lib/ann-peer.ts'), peer, String(n), kind, '384', quantization], { encoding: 'utf8', maxBuffer: 1 << 24 })
        const line = r.stdout.trim().split('\n').at(-1) ?? ''
        for (const note of r.stderr.split('\n').filter((x) => x.includes('build split'))) console.log(`  (${kind}, rep ${rep + 1}) ${note}`)
        try {
          const out = JSON.parse(line) as Out
          outs[peer]!.push(out)
          console.log(`  (${kind}, rep ${rep + 1}, load ${loadavg()[0]!.toFixed(1)}) ${peer}: build ${(out.buildMs / 1000).toFixed(1)} s, top-10 p50 ${out.results['default/100']!.p50.toFixed(2)} ms`)
        } catch {
          console.log(`${peer} (${kind}) failed: ${r.stderr.slice(-500)}`)
        }
      }
    }
    const med = (peer: string, f: (o: Out) => number): number | undefined => (outs[peer]!.length ? median(outs[peer]!.map(f)) : undefined)
    const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? (a / b).toFixed(2) : '-')
    const row = (label: string, f: (o: Out) => number, digits = 1) => {
      const [t, h, l] = peers.map((p) => med(p, f))
      const show = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(digits))
      console.log(`  ${label.padEnd(34)} tessera ${show(t)} | hnswlib ${show(h)} | lancedb ${show(l)} | tessera/hnswlib ${ratio(t, h)} | tessera/lancedb ${ratio(t, l)}`)
    }
    const efs = outs.tessera![0]?.efs ?? outs.hnswlib![0]?.efs ?? []
    console.log(`${kind}: (load ${loadavg()[0]!.toFixed(1)}; efSearch settings: ${efs.map((e) => `${e.name} = ${e.ef}`).join(', ')})`)
    row('build s', (o) => o.buildMs / 1000)
    row('scalar index on cat s', (o) => (o.scalarIndexMs ?? 0) / 1000, 2)
    row('RSS after build MB', (o) => o.rssMb, 0)
    row('on disk MB', (o) => o.diskMb)
    row('1% rows, no scalar index: p50 ms', (o) => o.results['noscalar/1']!.p50, 2)
    row('1% rows, no scalar index: recall', (o) => o.results['noscalar/1']!.recall, 3)
    for (const ef of efs) {
      for (const p of ['100', '50', '10', '1']) {
        row(`${ef.name} ${p}% rows: p50 ms`, (o) => o.results[`${ef.name}/${p}`]!.p50, 2)
        row(`${ef.name} ${p}% rows: recall@10`, (o) => o.results[`${ef.name}/${p}`]!.recall, 3)
      }
    }
  }
}

async function insertComparison(n: number): Promise<void> {
  const { loadavg } = await import('node:os')
  const db = await Tessera.memory()
  const rows = Array.from({ length: n }, (_, i) => ({ id: i, text: sentence(10) }))
  const plain = await db.createTable('plain', { id: 'int', text: 'string' })
  const indexed = await db.createTable('indexed', { id: 'int', text: 'string' })
  await indexed.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex' })
  const [, tPlain] = await time(() => plain.insert(rows))
  const [, tIndexed] = await time(() => indexed.insert(rows))
  const [, tEmbed] = await time(() => embedValues(embedders.lexical(), rows.map((r) => r.text)))
  console.log(`insert ${n} rows (load ${loadavg()[0]!.toFixed(1)}): plain ${fmt(tPlain / 1000)} s, with a lexical index ${fmt(tIndexed / 1000)} s (ratio ${fmt(tIndexed / tPlain)}; target <= 10); embedding alone ${fmt(tEmbed / 1000)} s (${fmt(n / (tEmbed / 1000))} texts/s)`)
  await db.close()
}
