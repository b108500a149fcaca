// The graph's nodes by the 128-bit hash of their vector, and each node's hash by the node: what an insert needs to
// find the node that already holds its vector, and a removal the hash its node leaves behind (groups.ts). Kept in
// typed arrays with open addressing, not in Maps: every node of the graph has an entry, and a JS Map of numbers took
// ~60 bytes an entry here (Bun 1.4, a million entries), two of them plus the hashes ~150; this takes 40-56 (the slot:
// 16 bytes of hash and 8 of node; two probe tables of 4-byte slot numbers, at most half full).

/** A node: a row's key (>= 0), or a group's node (< 0; groups.ts). Any integer a double holds exactly. */
export type NodeId = number

const EMPTY = 0

/** Mixes a node id (up to 53 bits, either sign) into a 32-bit probe start. */
function mixNode(node: NodeId): number {
  const hi = Math.floor(node / 0x1_0000_0000)
  let h = (node - hi * 0x1_0000_0000) ^ Math.imul(hi, 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return h ^ (h >>> 16)
}

export class NodeHashes {
  /** Slot s: its hash in words 4s..4s+3, its node in #nodes[s]. */
  #hashes = new Uint32Array(64)
  #nodes = new Float64Array(16)
  /** Slots freed by deletes, reused before new ones. */
  #free: number[] = []
  /** Slots ever handed out. */
  #top = 0
  #size = 0
  /** Linear-probing tables of slot + 1 (0: empty), by hash and by node; a power of two, at most half full. */
  #byHash = new Int32Array(32)
  #byNode = new Int32Array(32)

  get size(): number {
    return this.#size
  }

  /** The node whose vector has the hash in h[at..at+3], if any. */
  nodeOf(h: Uint32Array, at = 0): NodeId | undefined {
    const p = this.#findHash(h, at)
    return p < 0 ? undefined : this.#nodes[this.#byHash[p]! - 1]!
  }

  has(node: NodeId): boolean {
    return this.#findNode(node) >= 0
  }

  /** Calls `each` with every node and its hash (words at..at+3 of `hashes`), in no particular order. */
  forEach(each: (node: NodeId, hashes: Uint32Array, at: number) => void): void {
    for (let p = 0; p < this.#byNode.length; p++) {
      const s = this.#byNode[p]!
      if (s !== EMPTY) each(this.#nodes[s - 1]!, this.#hashes, (s - 1) * 4)
    }
  }

  /** Makes room for `count` entries at once (a load knows how many), sparing the rehashes of growing one by one. */
  reserve(count: number): void {
    if (count > this.#nodes.length) {
      const nodes = new Float64Array(count)
      nodes.set(this.#nodes)
      this.#nodes = nodes
      const hashes = new Uint32Array(count * 4)
      hashes.set(this.#hashes)
      this.#hashes = hashes
    }
    let capacity = this.#byHash.length
    while (count * 2 > capacity) capacity *= 2
    if (capacity > this.#byHash.length) this.#rehash(capacity)
  }

  /** Records `node` with the hash in h[at..at+3]; neither may be recorded already (the caller checks). */
  set(node: NodeId, h: Uint32Array, at = 0): void {
    if ((this.#size + 1) * 2 > this.#byHash.length) this.#rehash(this.#byHash.length * 2)
    const s = this.#slot()
    const w = s * 4
    this.#hashes[w] = h[at]!
    this.#hashes[w + 1] = h[at + 1]!
    this.#hashes[w + 2] = h[at + 2]!
    this.#hashes[w + 3] = h[at + 3]!
    this.#nodes[s] = node
    this.#byHash[this.#freeAt(this.#byHash, h[at]!)] = s + 1
    this.#byNode[this.#freeAt(this.#byNode, mixNode(node))] = s + 1
    this.#size++
  }

  /** Forgets `node` and its hash; false when it was not recorded. */
  delete(node: NodeId): boolean {
    const q = this.#findNode(node)
    if (q < 0) return false
    const s = this.#byNode[q]! - 1
    const p = this.#findHash(this.#hashes, s * 4)
    this.#unlink(this.#byNode, q, (slot) => mixNode(this.#nodes[slot]!))
    this.#unlink(this.#byHash, p, (slot) => this.#hashes[slot * 4]!)
    this.#free.push(s)
    this.#size--
    return true
  }

  #slot(): number {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    if (this.#top === this.#nodes.length) {
      const nodes = new Float64Array(Math.max(16, this.#nodes.length * 2))
      nodes.set(this.#nodes)
      this.#nodes = nodes
      const hashes = new Uint32Array(nodes.length * 4)
      hashes.set(this.#hashes)
      this.#hashes = hashes
    }
    return this.#top++
  }

  #findHash(h: Uint32Array, at: number): number {
    const table = this.#byHash
    const mask = table.length - 1
    const words = this.#hashes
    for (let p = h[at]! & mask; ; p = (p + 1) & mask) {
      const s = table[p]!
      if (s === EMPTY) return -1
      const w = (s - 1) * 4
      if (words[w] === h[at] && words[w + 1] === h[at + 1] && words[w + 2] === h[at + 2] && words[w + 3] === h[at + 3]) return p
    }
  }

  #findNode(node: NodeId): number {
    const table = this.#byNode
    const mask = table.length - 1
    for (let p = mixNode(node) & mask; ; p = (p + 1) & mask) {
      const s = table[p]!
      if (s === EMPTY) return -1
      if (this.#nodes[s - 1] === node) return p
    }
  }

  /** The first empty position from `home` on. */
  #freeAt(table: Int32Array, home: number): number {
    const mask = table.length - 1
    let p = home & mask
    while (table[p] !== EMPTY) p = (p + 1) & mask
    return p
  }

  /**
   * Empties position `hole` and moves later entries of its probe run back into it (backward-shift deletion), so that
   * lookups never meet a gap before their entry and no tombstones pile up under deletes.
   */
  #unlink(table: Int32Array, hole: number, home: (slot: number) => number): void {
    const mask = table.length - 1
    table[hole] = EMPTY
    for (let j = (hole + 1) & mask; table[j] !== EMPTY; j = (j + 1) & mask) {
      const k = home(table[j]! - 1) & mask
      // The entry at j may fill the hole when the hole lies between its home and j (cyclically).
      const movable = j > hole ? k <= hole || k > j : k <= hole && k > j
      if (movable) {
        table[hole] = table[j]!
        table[j] = EMPTY
        hole = j
      }
    }
  }

  #rehash(capacity: number): void {
    const old = this.#byNode
    this.#byHash = new Int32Array(capacity)
    this.#byNode = new Int32Array(capacity)
    for (let p = 0; p < old.length; p++) {
      const s = old[p]!
      if (s === EMPTY) continue
      this.#byHash[this.#freeAt(this.#byHash, this.#hashes[(s - 1) * 4]!)] = s
      this.#byNode[this.#freeAt(this.#byNode, mixNode(this.#nodes[s - 1]!))] = s
    }
  }
}
