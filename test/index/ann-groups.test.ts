import { describe, expect, test } from 'bun:test'
import { Engine } from '../../src/index/ann/engine.ts'
import type { AnnSettings } from '../../src/index/ann/engine.ts'
import { GROUP_KEY_BASE, VectorGroups } from '../../src/index/ann/groups.ts'
import type { GroupParts } from '../../src/index/ann/groups.ts'
import { decodeGroups, encodeGroups } from '../../src/index/ann/groups-file.ts'
import { NodeHashes } from '../../src/index/ann/node-hashes.ts'
import { hashVector } from '../../src/index/ann/vector-hash.ts'

// The pieces that let rows with identical vectors share one node of the native graph (src/index/ann/groups.ts): the
// vector hash, the node table, the groups and their file, and the engine over every metric and quantization.

function seeded(seed: number): () => number {
  let s = seed
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
}

const hashOf = (v: Float32Array, at = 0, length = v.length): number[] => {
  const out = new Uint32Array(4)
  hashVector(new Uint32Array(v.buffer, v.byteOffset, v.length), at, length, out)
  return [...out]
}

describe('vector hash', () => {
  test('is MurmurHash3 x86_128 (seed 0) of the float32 bytes: the reference C gives these for 0 to 9 floats', () => {
    // v[i] = i * 1.5 - 2.25 + n for n floats, hashed by the reference MurmurHash3_x86_128(v, 4n, 0).
    const reference = [
      [0, 0, 0, 0], [2657085642, 3392936755, 3392936755, 3392936755], [3350392179, 2871000314, 1412179988, 1412179988],
      [2598442974, 2990811397, 1457676521, 3848878722], [2049147185, 409088618, 2113291437, 3605320799],
      [3851178250, 1256739554, 666759803, 1134289461], [3858457900, 1782670192, 2333879530, 2835867453],
      [127310979, 2074158908, 1360794974, 1634202456], [398678441, 2111165904, 2265751583, 378769380],
      [1642997192, 196187278, 67973912, 1205305198],
    ]
    reference.forEach((want, n) => expect(hashOf(Float32Array.from({ length: n }, (_, i) => i * 1.5 - 2.25 + n))).toEqual(want))
  })

  test('hashes a row of a page as its copy; one differing bit, or -0 for 0, gives another hash', () => {
    const rnd = seeded(3)
    const page = Float32Array.from({ length: 5 * 24 }, () => rnd() - 0.5)
    const row = page.slice(48, 72)
    expect(hashOf(page, 48, 24)).toEqual(hashOf(row))
    const bits = new Uint32Array(row.buffer)
    bits[7]! ^= 1
    expect(hashOf(row)).not.toEqual(hashOf(page, 48, 24))
    expect(hashOf(Float32Array.of(0, 1))).not.toEqual(hashOf(Float32Array.of(-0, 1)))
  })
})

describe('node table', () => {
  test('agrees with a Map through growth and 40,000 random sets and deletes', () => {
    const rnd = seeded(11)
    const table = new NodeHashes()
    const model = new Map<number, number[]>()
    const byHash = new Map<string, number>()
    const h = new Uint32Array(4)
    for (let step = 0; step < 40_000; step++) {
      // Nodes of both signs (rows and groups' nodes), from a range small enough that deletes hit.
      const node = Math.floor(rnd() * 6000) - 1000
      if (model.has(node) && rnd() < 0.6) {
        expect(table.delete(node)).toBe(true)
        byHash.delete(model.get(node)!.join())
        model.delete(node)
      } else if (!model.has(node)) {
        // Hashes with shared low words (the first probe) so that runs form and deletes shift them.
        for (let i = 0; i < 4; i++) h[i] = i === 0 ? Math.floor(rnd() * 64) : Math.floor(rnd() * 2 ** 32)
        if (byHash.has([...h].join())) continue
        table.set(node, h)
        model.set(node, [...h])
        byHash.set([...h].join(), node)
      } else {
        expect(table.delete(node + 0.5)).toBe(false)
      }
      if (step % 1000 === 0 || step === 39_999) {
        expect(table.size).toBe(model.size)
        for (const [n, words] of model) {
          expect(table.has(n)).toBe(true)
          expect(table.nodeOf(Uint32Array.from(words))).toBe(n)
        }
        const seen = new Map<number, number[]>()
        table.forEach((n, words, at) => seen.set(n, [...words.subarray(at, at + 4)]))
        expect(seen).toEqual(model)
      }
    }
    expect(table.nodeOf(Uint32Array.of(1, 2, 3, 4))).toBeUndefined()
  })
})

const DIMS = 8
const vec = (seed: number): Float32Array => {
  const rnd = seeded(seed)
  return Float32Array.from({ length: DIMS }, () => rnd() - 0.5)
}
const rowsOf = (...vs: Float32Array[]): Float32Array => {
  const out = new Float32Array(vs.length * DIMS)
  vs.forEach((v, i) => out.set(v, i * DIMS))
  return out
}
const keys = (...ks: number[]) => BigUint64Array.from(ks, BigInt)
/** Parts in a fixed order (the node table lists its nodes in the order of its slots). */
const normalized = (p: GroupParts) => ({
  nodes: Array.from(p.nodes, (node, i) => [node, ...p.hashes.subarray(i * 4, i * 4 + 4)]).sort((x, y) => x[0]! - y[0]!),
  groups: p.groups.map((g) => ({ id: g.id, rows: Array.from(g.rows) })).sort((x, y) => x.id - y.id),
  nextGroup: p.nextGroup,
})
const list = (ks: BigUint64Array) => Array.from(ks, (k) => (k >= GROUP_KEY_BASE ? `g${k - GROUP_KEY_BASE}` : Number(k)))

describe('groups of identical vectors', () => {
  const a = vec(1)
  const b = vec(2)
  const c = vec(3)

  test('distinct vectors pass through as they are; a repeated vector makes one group node, in the request or after it', () => {
    const g = new VectorGroups()
    const first = rowsOf(a, b)
    const plain = g.add(keys(1, 2), first, DIMS)
    // The request itself: nothing copied when no vector repeats.
    expect(plain.vectors).toBe(first)
    expect(list(plain.keys)).toEqual([1, 2])
    expect(plain.remove.length).toBe(0)
    // 3 repeats a (held by row 1's node): both move to a group's node, row 1's node goes. 4 and 5 repeat c within the
    // request: one node for both, c's vector added once.
    const change = g.add(keys(3, 4, 5), rowsOf(a, c, c), DIMS)
    expect(list(change.remove)).toEqual([1])
    expect(list(change.keys)).toEqual(['g0', 'g1'])
    expect([...change.vectors]).toEqual([...a, ...c])
    expect({ rows: g.rows, nodes: g.nodes, groups: g.groups }).toEqual({ rows: 5, nodes: 3, groups: 2 })
    expect([1n, 2n, 3n, 4n, 5n, 6n].map((k) => g.nodeKeyOf(k))).toEqual([GROUP_KEY_BASE, 2n, GROUP_KEY_BASE, GROUP_KEY_BASE + 1n, GROUP_KEY_BASE + 1n, undefined])
    // A third row of a: it only joins (no graph change).
    const joined = g.add(keys(0), rowsOf(a), DIMS)
    expect({ remove: joined.remove.length, add: joined.keys.length }).toEqual({ remove: 0, add: 0 })
    expect(g.rows).toBe(6)
  })

  test('a row leaving keeps the group node while any row remains; an update moves the row; the last row takes the node', () => {
    const g = new VectorGroups()
    g.add(keys(1, 2, 3), rowsOf(a, a, a), DIMS)
    expect(g.nodes).toBe(1)
    // Row 1 (the first of the group) deleted: the node stays.
    expect(list(g.remove(keys(1)))).toEqual([])
    expect(g.nodeKeyOf(2n)).toBe(GROUP_KEY_BASE)
    // Row 2 updated to b: it leaves the group (node stays for row 3) and gets a node of its own.
    const moved = g.add(keys(2), rowsOf(b), DIMS)
    expect({ remove: list(moved.remove), add: list(moved.keys) }).toEqual({ remove: [], add: [2] })
    // Row 3 updated to a again (a catch-up reading it twice): the group, emptied, goes, and the row gets a node.
    const again = g.add(keys(3), rowsOf(a), DIMS)
    expect({ remove: list(again.remove), add: list(again.keys) }).toEqual({ remove: ['g0'], add: [3] })
    expect(list(g.remove(keys(3, 2, 99)))).toEqual([3, 2])
    expect({ rows: g.rows, nodes: g.nodes, groups: g.groups }).toEqual({ rows: 0, nodes: 0, groups: 0 })
    // A row key past 2^53 cannot be held (the graph keys of groups start at 2^63).
    expect(() => g.add(keys(2 ** 53), rowsOf(a), DIMS)).toThrow('beyond')
  })

  test('a hit on a group node is its rows at its distance: ties in row order, at most count rows', () => {
    const g = new VectorGroups()
    g.add(keys(50, 10, 40, 30, 20, 7, 8), rowsOf(a, a, a, a, a, b, c), DIMS)
    const hits = { keys: BigUint64Array.of(GROUP_KEY_BASE, 8n, 7n), distances: Float32Array.of(0, 0.5, 0.5) }
    const all = g.expand(hits.keys, hits.distances, 10)
    expect(list(all.keys)).toEqual([10, 20, 30, 40, 50, 7, 8])
    expect([...all.distances]).toEqual([0, 0, 0, 0, 0, 0.5, 0.5])
    expect(list(g.expand(hits.keys, hits.distances, 3).keys)).toEqual([10, 20, 30])
    expect(list(g.expand(hits.keys, hits.distances, 6).keys)).toEqual([10, 20, 30, 40, 50, 7])
    // Hits without a group's node: as usearch gave them.
    const plain = { keys: BigUint64Array.of(8n, 7n), distances: Float32Array.of(0.5, 0.5) }
    expect(g.expand(plain.keys, plain.distances, 10).keys).toBe(plain.keys)
  })

  test('saved and read back whole; a file that is not one, or describes an inconsistent state, is refused', () => {
    const g = new VectorGroups()
    g.add(keys(1, 2, 3, 4, 5), rowsOf(a, b, a, c, a), DIMS)
    g.remove(keys(4))
    const bytes = encodeGroups(g)
    // Read from an unaligned copy, as a pooled read buffer may be.
    const shifted = new Uint8Array(bytes.length + 3)
    shifted.set(bytes, 3)
    const back = decodeGroups(shifted.subarray(3))
    expect(normalized(back.parts())).toEqual(normalized(g.parts()))
    expect({ rows: back.rows, nodes: back.nodes, groups: back.groups }).toEqual({ rows: 4, nodes: 2, groups: 1 })
    // It goes on as the original would: a new row of a joins, a new group gets the next id.
    expect(list(back.add(keys(6, 7), rowsOf(a, b), DIMS).keys)).toEqual(['g1'])
    expect(() => decodeGroups(new Uint8Array(8))).toThrow('too few')
    expect(() => decodeGroups(bytes.subarray(0, bytes.length - 8))).toThrow()
    const garbled = Uint8Array.from(bytes)
    garbled[0]! ^= 1
    expect(() => decodeGroups(garbled)).toThrow('not a groups file')
    const parts = g.parts()
    expect(() => VectorGroups.fromParts({ ...parts, groups: [] })).toThrow('group nodes')
    expect(() => VectorGroups.fromParts({ ...parts, groups: [{ id: 0, rows: [3, 1] }] })).toThrow('out of order')
    expect(() => VectorGroups.fromParts({ ...parts, groups: [{ id: 0, rows: [1, 2] }] })).toThrow('held twice')
  })
})

describe('the engine over identical vectors', () => {
  const N = 3000
  const SHARED = 500
  const dims = 16
  const settingsFor = (metric: AnnSettings['metric'], quantization: AnnSettings['quantization']): AnnSettings => ({ metric, dims, m: 16, efConstruction: 64, efSearch: 64, quantization })

  for (const [metric, quantization] of [['cosine', 'f16'], ['cosine', 'f32'], ['cosine', 'i8'], ['ip', 'f32'], ['l2', 'f32']] as const) {
    test(`${metric} ${quantization}: every row of the shared vector is found, in row order, at one distance`, async () => {
      const engine = new Engine(await import('usearch'))
      const rnd = seeded(17)
      const unit = (v: Float32Array) => v.map((x) => x / Math.hypot(...v))
      const shared = unit(Float32Array.from({ length: dims }, () => rnd() - 0.5))
      const vectors = new Float32Array(N * dims)
      const sharedRows: number[] = []
      for (let r = 0; r < N; r++) {
        // The other rows around the shared vector, so the copies sit among neighbours as in a real table (an outlier
        // is another matter: HNSW links it poorly, copies or not); unit length, so that by inner product too the
        // copies come first.
        const copy = r % 6 === 1
        if (copy) sharedRows.push(r + 1)
        vectors.set(copy ? shared : unit(shared.map((x) => x + (rnd() - 0.5) * 0.6)), r * dims)
      }
      engine.handle({ op: 'create', id: 1, settings: settingsFor(metric, quantization) })
      // In pages, as a build adds them: copies in one request and across requests.
      for (let r = 0; r < N; r += 700) {
        const n = Math.min(700, N - r)
        expect(engine.handle({ op: 'add', id: 1, keys: BigUint64Array.from({ length: n }, (_, i) => BigInt(r + i + 1)), vectors: vectors.slice(r * dims, (r + n) * dims) }).size).toBe(r + n)
      }
      const found = engine.handle({ op: 'search', id: 1, query: Float32Array.from(shared), count: SHARED })
      expect(Array.from(found.keys!, Number)).toEqual(sharedRows)
      expect(new Set(found.distances).size).toBe(1)
      // Deeper searches list the same rows first: no row of the ties comes and goes between widths.
      const deeper = engine.handle({ op: 'search', id: 1, query: Float32Array.from(shared), count: SHARED + 100 })
      expect(Array.from(deeper.keys!.subarray(0, SHARED), Number)).toEqual(sharedRows)
      const present = engine.handle({ op: 'contains', id: 1, keys: BigUint64Array.from({ length: N + 1 }, (_, i) => BigInt(i + 1)) }).present!
      expect(present.filter(Boolean).length).toBe(N)
      expect(present[N]).toBe(false)
      // Half the copies deleted, the first one included: the others are still found.
      const gone = sharedRows.filter((_, i) => i % 2 === 0)
      expect(engine.handle({ op: 'remove', id: 1, keys: BigUint64Array.from(gone, BigInt) }).size).toBe(N - gone.length)
      const left = engine.handle({ op: 'search', id: 1, query: Float32Array.from(shared), count: SHARED / 2 })
      expect(Array.from(left.keys!, Number)).toEqual(sharedRows.filter((_, i) => i % 2 === 1))
    })
  }
})
