import { NodeHashes } from './node-hashes.ts'
import type { NodeId } from './node-hashes.ts'
import { hashVector } from './vector-hash.ts'

// Rows with identical vectors share one node of the graph. HNSW degrades on exact duplicates: each copy's neighbour
// list fills with other copies at distance 0, the copies form a clique with few links out, and a search reaches only
// some of them (500 identical vectors among 4,000 rows: usearch returned 192 of them for a top-500, at any efSearch).
// Here an insert finds the node already holding its vector by the vector's hash (vector-hash.ts), and the row joins
// that node's group instead of adding a node; a search's hit on a group's node stands for every row of the group, at
// the node's distance (the same vector, so the same distance), ties in row order. A row that leaves (deleted, or
// updated to another vector) leaves its group; the node goes with the group's last row. A row with a vector of its
// own is its own node under its row key, as before, and costs only its hash entry; only groups cost more.
// Which rows these are is the engine's own bookkeeping, kept beside the graph and saved with it (groups-file.ts).

/** Graph keys from here up are groups' nodes: row keys (_rowid, a bigint serial) stay far below 2^63. */
export const GROUP_KEY_BASE = 1n << 63n

const groupNode = (g: number): NodeId => -g - 1
const groupOfNode = (node: NodeId): number => -node - 1
const graphKey = (node: NodeId): bigint => (node < 0 ? GROUP_KEY_BASE + BigInt(groupOfNode(node)) : BigInt(node))
const MAX_ROW = BigInt(Number.MAX_SAFE_INTEGER)

/** What the graph must do for an add: remove these keys first, then add these keys with these vectors. */
export interface GraphChange {
  readonly remove: BigUint64Array
  readonly keys: BigUint64Array
  readonly vectors: Float32Array
}

/** A saved VectorGroups (groups-file.ts): every node with its hash, and each group's rows. */
export interface GroupParts {
  /** Node ids: a row's key, or a group's node (negative). */
  readonly nodes: Float64Array
  /** 4 words per node, in the order of `nodes`. */
  readonly hashes: Uint32Array
  readonly groups: readonly { readonly id: number; readonly rows: ArrayLike<number> }[]
  readonly nextGroup: number
}

export class VectorGroups {
  readonly #hashes = new NodeHashes()
  /** A group's rows, ascending (the order ties are answered in). */
  readonly #rows = new Map<number, number[]>()
  readonly #groupOf = new Map<number, number>()
  #nextGroup = 0

  /** Rows held: one per node, less the groups' nodes, plus the groups' rows. */
  get rows(): number {
    return this.#hashes.size - this.#rows.size + this.#groupOf.size
  }

  /** Nodes the graph must hold. */
  get nodes(): number {
    return this.#hashes.size
  }

  get groups(): number {
    return this.#rows.size
  }

  /** The graph key of the node holding `row`'s vector; undefined when the row is not held. */
  nodeKeyOf(row: bigint): bigint | undefined {
    if (row > MAX_ROW) return undefined
    const r = Number(row)
    const g = this.#groupOf.get(r)
    if (g !== undefined) return graphKey(groupNode(g))
    return this.#hashes.has(r) ? row : undefined
  }

  /**
   * Places rows (`vectors`: `dims` floats each, as the graph holds them): a row already held leaves its place first
   * (an update, or a catch-up reading a row again); a vector already held joins that node (a row with a node of its
   * own and the new row become a group, under a new node); any other becomes a node of its row. Returns what the
   * graph must do; with no identical vectors that is the request itself, not a copy.
   */
  add(keys: BigUint64Array, vectors: Float32Array, dims: number): GraphChange {
    if (vectors.length !== keys.length * dims) throw new Error(`${keys.length} keys need ${keys.length * dims} floats, not ${vectors.length}`)
    for (const key of keys) if (key > MAX_ROW) throw new Error(`row key ${key} is beyond what the native index keeps (2^53)`)
    const words = new Uint32Array(vectors.buffer, vectors.byteOffset, vectors.length)
    const h = new Uint32Array(4)
    const removed: bigint[] = []
    /** Nodes this request adds, each with the index of the row whose vector it gets (insertion order kept). */
    const pending = new Map<NodeId, number>()
    let plain = true
    for (let i = 0; i < keys.length; i++) {
      const row = Number(keys[i]!)
      if (this.#groupOf.has(row) || this.#hashes.has(row)) {
        this.#leave(row, pending, removed)
        plain = false
      }
      hashVector(words, i * dims, dims, h)
      const node = this.#hashes.nodeOf(h)
      if (node === undefined) {
        this.#hashes.set(row, h)
        pending.set(row, i)
        continue
      }
      plain = false
      if (node < 0) {
        const g = groupOfNode(node)
        insertSorted(this.#rows.get(g)!, row)
        this.#groupOf.set(row, g)
        continue
      }
      // A second row with this vector: the first one's node gives way to the group's.
      const g = this.#nextGroup++
      const gn = groupNode(g)
      this.#hashes.delete(node)
      this.#hashes.set(gn, h)
      this.#rows.set(g, node < row ? [node, row] : [row, node])
      this.#groupOf.set(node, g)
      this.#groupOf.set(row, g)
      if (!pending.delete(node)) removed.push(BigInt(node))
      pending.set(gn, i)
    }
    if (plain) return { remove: new BigUint64Array(0), keys, vectors }
    const out = { remove: BigUint64Array.from(removed), keys: new BigUint64Array(pending.size), vectors: new Float32Array(pending.size * dims) }
    let n = 0
    for (const [node, i] of pending) {
      out.keys[n] = graphKey(node)
      out.vectors.set(vectors.subarray(i * dims, (i + 1) * dims), n * dims)
      n++
    }
    return out
  }

  /** Rows leaving (deleted, or without a vector now): the graph keys to remove (a group's, with its last row). */
  remove(keys: BigUint64Array): BigUint64Array {
    const removed: bigint[] = []
    for (const key of keys) if (key <= MAX_ROW) this.#leave(Number(key), undefined, removed)
    return BigUint64Array.from(removed)
  }

  /**
   * A search's hits (graph keys, ascending distances, as usearch answers) as rows: a group's node stands for its rows,
   * each at the node's distance. At most `count` rows, ordered by distance, then by row among equal distances, so
   * the rows a deeper search adds come after those of a shallower one (pages over ties neither repeat nor skip). Hits
   * without a group's node are returned as they are: no cost beyond a look at each key.
   */
  expand(keys: BigUint64Array, distances: Float32Array, count: number): { keys: BigUint64Array; distances: Float32Array } {
    if (this.#rows.size === 0 || !keys.some((k) => k >= GROUP_KEY_BASE)) return { keys, distances }
    const rows: number[] = []
    const dists: number[] = []
    for (let i = 0; i < keys.length && rows.length < count; ) {
      // A run of hits at one distance: their rows are ties, answered in row order.
      let j = i + 1
      while (j < keys.length && distances[j] === distances[i]) j++
      const room = count - rows.length
      const run: number[] = []
      for (let hit = i; hit < j; hit++) {
        const key = keys[hit]!
        if (key < GROUP_KEY_BASE) {
          run.push(Number(key))
          continue
        }
        // A group's rows are kept in order: its first `room` are all this run can use.
        const members = this.#rows.get(Number(key - GROUP_KEY_BASE)) ?? []
        for (let m = 0; m < Math.min(room, members.length); m++) run.push(members[m]!)
      }
      if (j - i > 1) run.sort((a, b) => a - b)
      for (let r = 0; r < Math.min(room, run.length); r++) {
        rows.push(run[r]!)
        dists.push(distances[i]!)
      }
      i = j
    }
    return { keys: BigUint64Array.from(rows, BigInt), distances: Float32Array.from(dists) }
  }

  /** What groups-file.ts saves. */
  parts(): GroupParts {
    const nodes = new Float64Array(this.#hashes.size)
    const hashes = new Uint32Array(this.#hashes.size * 4)
    let n = 0
    this.#hashes.forEach((node, words, at) => {
      nodes[n] = node
      for (let w = 0; w < 4; w++) hashes[n * 4 + w] = words[at + w]!
      n++
    })
    const groups = [...this.#rows].map(([id, rows]) => ({ id, rows }))
    return { nodes, hashes, groups, nextGroup: this.#nextGroup }
  }

  /** Groups as saved; throws when the parts do not describe a consistent state (every group's node held, and only those). */
  static fromParts(parts: GroupParts): VectorGroups {
    const out = new VectorGroups()
    if (!Number.isSafeInteger(parts.nextGroup) || parts.nextGroup < 0) throw new Error(`invalid next group ${parts.nextGroup}`)
    if (parts.hashes.length !== parts.nodes.length * 4) throw new Error('nodes and hashes differ in number')
    out.#nextGroup = parts.nextGroup
    out.#hashes.reserve(parts.nodes.length)
    let groupNodes = 0
    for (let i = 0; i < parts.nodes.length; i++) {
      const node = parts.nodes[i]!
      if (!Number.isSafeInteger(node) || (node < 0 && groupOfNode(node) >= parts.nextGroup)) throw new Error(`invalid node ${node}`)
      if (out.#hashes.has(node) || out.#hashes.nodeOf(parts.hashes, i * 4) !== undefined) throw new Error(`node ${node} or its hash is listed twice`)
      out.#hashes.set(node, parts.hashes, i * 4)
      if (node < 0) groupNodes++
    }
    for (const { id, rows } of parts.groups) {
      if (!out.#hashes.has(groupNode(id)) || out.#rows.has(id)) throw new Error(`group ${id} has no node, or is listed twice`)
      if (rows.length === 0) throw new Error(`group ${id} has no rows`)
      const list: number[] = []
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!
        if (!Number.isSafeInteger(row) || row < 0 || (r > 0 && row <= rows[r - 1]!)) throw new Error(`group ${id}: rows out of order`)
        if (out.#groupOf.has(row) || out.#hashes.has(row)) throw new Error(`row ${row} is held twice`)
        out.#groupOf.set(row, id)
        list.push(row)
      }
      out.#rows.set(id, list)
    }
    if (groupNodes !== out.#rows.size) throw new Error(`${groupNodes} group nodes for ${out.#rows.size} groups`)
    return out
  }

  /** `row` leaves its node or its group; graph keys that must go are pushed to `removed` unless added by this request. */
  #leave(row: number, pending: Map<NodeId, number> | undefined, removed: bigint[]): void {
    const g = this.#groupOf.get(row)
    if (g === undefined) {
      if (this.#hashes.delete(row) && !pending?.delete(row)) removed.push(BigInt(row))
      return
    }
    this.#groupOf.delete(row)
    const rows = this.#rows.get(g)!
    rows.splice(lowerBound(rows, row), 1)
    // The node stays while any row of the group does: it holds their vector, which only an add could bring back.
    if (rows.length > 0) return
    this.#rows.delete(g)
    const gn = groupNode(g)
    this.#hashes.delete(gn)
    if (!pending?.delete(gn)) removed.push(graphKey(gn))
  }
}

/** The first position in ascending `list` whose value is not below `x`. */
function lowerBound(list: readonly number[], x: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Rows mostly arrive in ascending key order (_rowid is a serial): appended, else placed by binary search. */
function insertSorted(list: number[], x: number): void {
  if (list.length === 0 || list[list.length - 1]! < x) list.push(x)
  else list.splice(lowerBound(list, x), 0, x)
}
