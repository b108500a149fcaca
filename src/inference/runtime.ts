import { existsSync } from 'node:fs'
import { onnxRuntimeEnv } from '../runtime/index.ts'
import { invalid, TesseraError } from '../errors.ts'

// ONNX Runtime behind one small surface. onnxruntime-node (native CPU, CUDA EP where its binaries are installed)
// is the default; onnxruntime-web (wasm, WebGPU where the runtime has it) is the fallback and the choice for
// runtimes without native addons. Both are imported lazily: `import { Tessera }` must not pay for them.

export type Provider = 'cpu' | 'cuda' | 'webgpu' | 'wasm'
const PROVIDERS: readonly Provider[] = ['cpu', 'cuda', 'webgpu', 'wasm']

/** The parts of onnxruntime-common both packages share (typed loosely: the two packages ship separate typings). */
export interface OrtTensor {
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array
  readonly dims: readonly number[]
  readonly type: string
}
export interface OrtSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>
}
interface OrtModule {
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor
  InferenceSession: { create(model: string | Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> }
  env?: { wasm?: { numThreads?: number } }
}

let nodeOrt: Promise<OrtModule> | undefined
let webOrt: Promise<OrtModule> | undefined

function loadOrt(provider: Provider): Promise<OrtModule> {
  if (provider === 'cpu' || provider === 'cuda') {
    nodeOrt ??= import('onnxruntime-node') as unknown as Promise<OrtModule>
    return nodeOrt
  }
  webOrt ??= (async () => {
    const ort = (await import(provider === 'webgpu' ? 'onnxruntime-web/webgpu' : 'onnxruntime-web')) as unknown as OrtModule
    // Inside a single binary the wasm files are embedded; they are copied out and named here.
    const { wasmPaths } = await onnxRuntimeEnv()
    if (wasmPaths && ort.env?.wasm) (ort.env.wasm as { wasmPaths?: unknown }).wasmPaths = wasmPaths
    return ort
  })()
  return webOrt
}

/**
 * The provider this build can run: a slim or non-linux binary has no onnxruntime-node (importing it throws), so
 * cpu/cuda become wasm there; a binary has no WebGPU either.
 */
async function runnable(provider: Provider): Promise<Provider> {
  const env = await onnxRuntimeEnv()
  if (!env.native && (provider === 'cpu' || provider === 'cuda')) return 'wasm'
  if (provider === 'webgpu' && env.wasmPaths) return 'wasm'
  return provider
}

/** The provider to use: TESSERA_EP when set, else CUDA when an NVIDIA device is visible, else native CPU. */
export function defaultProvider(env: Record<string, string | undefined> = process.env): Provider {
  const forced = env.TESSERA_EP?.trim().toLowerCase()
  if (forced) {
    if (!(PROVIDERS as readonly string[]).includes(forced)) {
      throw invalid('INVALID_ARGUMENT', `TESSERA_EP=${forced} is not a provider; use one of ${PROVIDERS.join(', ')}`)
    }
    return forced as Provider
  }
  return existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl') ? 'cuda' : 'cpu'
}

/** A Tensor of the module that runs `provider`. */
export async function tensor(provider: Provider, type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]): Promise<OrtTensor> {
  const ort = await loadOrt(await runnable(provider))
  return new ort.Tensor(type, data, dims)
}

export interface LoadedSession {
  readonly session: OrtSession
  /** The provider that actually runs it (CUDA falls back to CPU when its binaries are missing). */
  readonly provider: Provider
}

const sessions = new Map<string, Promise<LoadedSession>>()

/**
 * One session per (model, provider), created once per process. `model` is a file path or model bytes with a
 * stable `key` naming them (generated models).
 */
export function getSession(model: string | Uint8Array, options: { key?: string; provider?: Provider } = {}): Promise<LoadedSession> {
  const provider = options.provider ?? defaultProvider()
  const key = `${options.key ?? (typeof model === 'string' ? model : '')}|${provider}`
  if (key.startsWith('|')) throw invalid('INVALID_ARGUMENT', 'getSession: model bytes need a key')
  let s = sessions.get(key)
  if (!s) {
    s = createSession(model, provider)
    sessions.set(key, s)
    s.catch(() => sessions.delete(key))
  }
  return s
}

async function createSession(model: string | Uint8Array, wanted: Provider): Promise<LoadedSession> {
  const provider = await runnable(wanted)
  const ort = await loadOrt(provider)
  const executionProviders = provider === 'cpu' ? ['cpu'] : provider === 'cuda' ? ['cuda', 'cpu'] : [provider, 'wasm']
  try {
    return { session: await ort.InferenceSession.create(model, { executionProviders, graphOptimizationLevel: 'all' }), provider }
  } catch (e) {
    // No CUDA libraries (the install step that fetches them was skipped) or no WebGPU adapter: run on CPU.
    if (provider === 'cuda' && !process.env.TESSERA_EP) return createSession(model, 'cpu')
    if (provider === 'webgpu' && !process.env.TESSERA_EP) return createSession(model, 'wasm')
    const what = typeof model === 'string' ? model : 'generated model'
    throw new TesseraError('COMPUTATION_FAILED', `cannot load ONNX model ${what} on ${provider}: ${(e as Error).message}`, { model: what, provider }, { cause: e })
  }
}

/** Runs `fn` over `items` in slices of `batchSize`, concatenating the results in order. */
export async function inBatches<T, R>(items: readonly T[], batchSize: number, fn: (slice: readonly T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += batchSize) out.push(...(await fn(items.slice(i, i + batchSize))))
  return out
}

/** Splits a [N, D] float tensor into N plain number arrays (what array<float32>[D] columns store). */
export function rows2d(t: OrtTensor): number[][] {
  const [n, d] = [t.dims[0]!, t.dims.slice(1).reduce((a, b) => a * b, 1)]
  const data = t.data as Float32Array
  const out: number[][] = new Array(n)
  for (let i = 0; i < n; i++) out[i] = toNumbers(data, i * d, d)
  return out
}

/** A plain array from part of a typed array. A loop: Array.from(subarray) measured ~15x slower on Bun. */
export function toNumbers(data: ArrayLike<number>, offset: number, length: number): number[] {
  const out = new Array<number>(length)
  for (let j = 0; j < length; j++) out[j] = data[offset + j]!
  return out
}
