import { VectorGroups } from './groups.ts'

// The engine's groups of identical vectors (groups.ts), saved beside the usearch file: usearch's file holds one node
// per distinct vector, and without this one a loaded graph would not know which rows a group's node stands for, nor
// the hashes that let later inserts find the node of their vector. Its note records its length and CRC-32 as it does
// the usearch file's (file-check.ts), so it is verified before it is read, and the two are saved and renamed together
// (native.ts). 24 bytes a node (its id and hash) and 8 a row of a group: 2.4 MB beside a 92 MB usearch file of
// 100,000 × 384 f16 vectors.
//
// Layout, in the platform's byte order (as usearch's own file): u32 magic 'TSVG', u32 format; f64 nodes, groups,
// next group id; f64 × nodes: node ids; u32 × 4·nodes: their hashes; per group: f64 id, f64 rows, f64 × rows. Every
// section starts 8-aligned, so it is read through typed arrays over the bytes.

const MAGIC = 0x47565354
const FORMAT = 1
const HEADER_BYTES = 32

/** The groups file of an index file. */
export const groupsPath = (path: string): string => `${path}.groups`

export function encodeGroups(groups: VectorGroups): Uint8Array {
  const parts = groups.parts()
  const nodes = parts.nodes.length
  const bytes = HEADER_BYTES + nodes * 24 + parts.groups.reduce((sum, g) => sum + 16 + g.rows.length * 8, 0)
  const out = new ArrayBuffer(bytes)
  new Uint32Array(out, 0, 2).set([MAGIC, FORMAT])
  new Float64Array(out, 8, 3).set([nodes, parts.groups.length, parts.nextGroup])
  new Float64Array(out, HEADER_BYTES, nodes).set(parts.nodes)
  new Uint32Array(out, HEADER_BYTES + nodes * 8, nodes * 4).set(parts.hashes)
  let at = (HEADER_BYTES + nodes * 24) / 8
  const f64 = new Float64Array(out)
  for (const g of parts.groups) {
    f64[at++] = g.id
    f64[at++] = g.rows.length
    f64.set(g.rows, at)
    at += g.rows.length
  }
  return new Uint8Array(out)
}

/** The groups a file holds; throws when it is not a groups file of this format or describes no consistent state. */
export function decodeGroups(data: Uint8Array): VectorGroups {
  // Typed arrays need aligned offsets: a read buffer may sit anywhere in a pool.
  const bytes = data.byteOffset % 8 === 0 ? data : new Uint8Array(data)
  const buf = bytes.buffer
  const base = bytes.byteOffset
  const length = bytes.byteLength
  if (length < HEADER_BYTES) throw new Error(`${length} bytes are too few for a groups file`)
  const [magic, format] = new Uint32Array(buf, base, 2)
  if (magic !== MAGIC || format !== FORMAT) throw new Error('not a groups file of this format')
  const [nodes, groupCount, nextGroup] = new Float64Array(buf, base + 8, 3) as unknown as [number, number, number]
  if (!Number.isSafeInteger(nodes) || !Number.isSafeInteger(groupCount) || nodes < 0 || groupCount < 0 || HEADER_BYTES + nodes * 24 + groupCount * 16 > length) throw new Error('its counts exceed its length')
  const f64 = new Float64Array(buf, base, Math.floor(length / 8))
  const groups: { id: number; rows: Float64Array }[] = []
  let at = (HEADER_BYTES + nodes * 24) / 8
  for (let g = 0; g < groupCount; g++) {
    if (at + 2 > f64.length) throw new Error('it ends inside its groups')
    const id = f64[at]!
    const rows = f64[at + 1]!
    if (!Number.isSafeInteger(id) || id < 0 || !Number.isSafeInteger(rows) || rows < 0 || at + 2 + rows > f64.length) throw new Error(`group ${g} is malformed`)
    groups.push({ id, rows: f64.subarray(at + 2, at + 2 + rows) })
    at += 2 + rows
  }
  if (at * 8 !== length) throw new Error(`${length - at * 8} bytes follow its groups`)
  return VectorGroups.fromParts({
    nodes: new Float64Array(buf, base + HEADER_BYTES, nodes),
    hashes: new Uint32Array(buf, base + HEADER_BYTES + nodes * 8, nodes * 4),
    groups, nextGroup,
  })
}
