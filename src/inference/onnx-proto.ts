// A tiny ONNX model writer: just enough protobuf (ModelProto/GraphProto/NodeProto/TensorProto) to build small
// graphs in TypeScript, so Tessera can ship models it generates itself (the lexical embedder) without a download.
// Field numbers follow onnx/onnx.proto3.

type Bytes = Uint8Array

class Writer {
  readonly #parts: number[] = []

  varint(n: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(n))
    while (v >= 0x80n) {
      this.#parts.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    this.#parts.push(Number(v))
    return this
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire)
  }

  int(field: number, n: number | bigint): this {
    return this.tag(field, 0).varint(n)
  }

  bytes(field: number, b: Bytes): this {
    this.tag(field, 2).varint(b.length)
    for (const x of b) this.#parts.push(x)
    return this
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s))
  }

  float(field: number, f: number): this {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, f, true)
    this.tag(field, 5)
    for (const x of b) this.#parts.push(x)
    return this
  }

  done(): Bytes {
    return Uint8Array.from(this.#parts)
  }
}

/** Length-delimited fields built from large typed arrays without copying them byte by byte into a number[]. */
function concat(chunks: readonly Bytes[]): Bytes {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let off = 0
  for (const c of chunks) {
    out.set(c, off)
    off += c.length
  }
  return out
}

function lenField(field: number, body: Bytes): Bytes {
  return concat([new Writer().tag(field, 2).varint(body.length).done(), body])
}

export const DType = { float: 1, int64: 7 } as const
export type DTypeName = keyof typeof DType

export interface TensorInit {
  readonly name: string
  readonly dtype: DTypeName
  readonly dims: readonly number[]
  readonly data: Float32Array | BigInt64Array
}

export interface ValueInfo {
  readonly name: string
  readonly dtype: DTypeName
  /** A number for a fixed dimension, a string for a symbolic one ('batch'). */
  readonly shape: readonly (number | string)[]
}

export type AttrValue = number | readonly number[] | string

export interface NodeSpec {
  readonly op: string
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  readonly attrs?: Readonly<Record<string, AttrValue | { readonly float: number }>>
}

export interface GraphSpec {
  readonly name: string
  readonly inputs: readonly ValueInfo[]
  readonly outputs: readonly ValueInfo[]
  readonly initializers: readonly TensorInit[]
  readonly nodes: readonly NodeSpec[]
  readonly opset?: number
}

function tensor(t: TensorInit): Bytes {
  const head = new Writer()
  for (const d of t.dims) head.int(1, d)
  head.int(2, DType[t.dtype]).str(8, t.name)
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
  return concat([head.done(), lenField(9, raw)])
}

function valueInfo(v: ValueInfo): Bytes {
  const shape = new Writer()
  for (const d of v.shape) {
    const dim = typeof d === 'number' ? new Writer().int(1, d).done() : new Writer().str(2, d).done()
    shape.bytes(1, dim)
  }
  const tensorType = new Writer().int(1, DType[v.dtype]).bytes(2, shape.done()).done()
  const type = new Writer().bytes(1, tensorType).done()
  return new Writer().str(1, v.name).bytes(2, type).done()
}

function attribute(name: string, value: AttrValue | { readonly float: number }): Bytes {
  const w = new Writer().str(1, name)
  if (typeof value === 'string') return w.bytes(4, new TextEncoder().encode(value)).int(20, 3).done()
  if (typeof value === 'number') return w.int(3, value).int(20, 2).done()
  if (Array.isArray(value)) {
    for (const x of value as readonly number[]) w.int(8, x)
    return w.int(20, 7).done()
  }
  return w.float(2, (value as { float: number }).float).int(20, 1).done()
}

function node(n: NodeSpec, i: number): Bytes {
  const w = new Writer()
  for (const x of n.inputs) w.str(1, x)
  for (const x of n.outputs) w.str(2, x)
  w.str(3, `${n.op}_${i}`).str(4, n.op)
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.bytes(5, attribute(k, v))
  return w.done()
}

/** Serialises a graph as an ONNX ModelProto (IR 8, default-domain opset 13 unless given). */
export function buildModel(g: GraphSpec): Bytes {
  const graph = concat([
    ...g.nodes.map((n, i) => lenField(1, node(n, i))),
    new Writer().str(2, g.name).done(),
    ...g.initializers.map((t) => lenField(5, tensor(t))),
    ...g.inputs.map((v) => lenField(11, valueInfo(v))),
    ...g.outputs.map((v) => lenField(12, valueInfo(v))),
  ])
  const opset = new Writer().str(1, '').int(2, g.opset ?? 13).done()
  return concat([new Writer().int(1, 8).str(2, 'tessera').done(), lenField(7, graph), lenField(8, opset)])
}

/** A seeded PRNG (mulberry32): the same seed gives the same model bytes on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Standard normal samples (Box-Muller) from a seeded PRNG. */
export function gaussianMatrix(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n)
  gaussianFiller(seed, scale)(out, 0, n)
  return out
}

/**
 * gaussianMatrix's samples a range at a time: each call continues the same sequence from where the last stopped, so
 * filling [0, a), [a, b), ... in turn gives gaussianMatrix's array exactly. A caller building a large matrix can then
 * yield the thread between ranges (lexical.ts). Ranges start at even offsets (samples come in Box-Muller pairs).
 */
export function gaussianFiller(seed: number, scale = 1): (out: Float32Array, from: number, to: number) => void {
  const rand = seededRandom(seed)
  return (out, from, to) => {
    const n = out.length
    for (let i = from; i < to; i += 2) {
      const u = Math.max(rand(), 1e-12)
      const v = rand()
      const r = Math.sqrt(-2 * Math.log(u)) * scale
      out[i] = r * Math.cos(2 * Math.PI * v)
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v)
    }
  }
}
