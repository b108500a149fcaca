import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { isIP } from 'node:net'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { invalid, notFound, TesseraError } from '../errors.ts'
import { downloadOutbound, isInternalAddress } from '../media/index.ts'

// Where models come from: a local folder (model.onnx + tokenizer.json/config.json), or `hf:org/name[@revision]`
// fetched once from a Hugging Face-compatible endpoint into a cache folder and read from disk ever after.

/** Files fetched for an hf: model; the ONNX file is looked for under these names, first found wins. */
const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx']
const SIDE_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'special_tokens_map.json', 'preprocessor_config.json']

export interface ModelFolder {
  readonly dir: string
  readonly onnx: string
}

export function modelCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.TESSERA_MODEL_CACHE) return resolve(env.TESSERA_MODEL_CACHE)
  return join(resolve(env.TESSERA_HOME ?? join(homedir(), '.tessera')), 'models')
}

export function hfEndpoint(env: Record<string, string | undefined> = process.env): string {
  return (env.TESSERA_HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')
}

function onnxIn(dir: string): string | undefined {
  for (const c of ONNX_CANDIDATES) if (existsSync(join(dir, c))) return join(dir, c)
  return undefined
}

const pending = new Map<string, Promise<ModelFolder>>()

/** Resolves a model source to a local folder, downloading an hf: model on first use. */
export function resolveModel(source: string): Promise<ModelFolder> {
  let p = pending.get(source)
  if (!p) {
    p = source.startsWith('hf:') ? fetchHf(source) : localFolder(source)
    pending.set(source, p)
    p.catch(() => pending.delete(source))
  }
  return p
}

async function localFolder(source: string): Promise<ModelFolder> {
  const path = isAbsolute(source) ? source : resolve(source)
  if (path.endsWith('.onnx') && existsSync(path)) return { dir: resolve(path, '..'), onnx: path }
  const onnx = existsSync(path) ? onnxIn(path) : undefined
  if (!onnx) throw notFound('NOT_FOUND', `model '${source}' not found: expected a folder with model.onnx (or onnx/model.onnx), an .onnx file, or 'hf:org/name'`, { model: source })
  return { dir: path, onnx }
}

async function fetchHf(source: string): Promise<ModelFolder> {
  const m = /^hf:([\w.-]+\/[\w.-]+)(?:@([\w.\/-]+))?$/.exec(source)
  if (!m) throw invalid('INVALID_ARGUMENT', `bad model name '${source}': expected 'hf:org/name' or 'hf:org/name@revision'`, { model: source })
  const [, repo, revision = 'main'] = m as unknown as [string, string, string | undefined]
  const dir = join(modelCacheDir(), `${repo!.replace('/', '--')}${revision === 'main' ? '' : `@${revision.replaceAll('/', '_')}`}`)
  const cached = onnxIn(dir)
  if (cached) return { dir, onnx: cached }
  mkdirSync(join(dir, 'onnx'), { recursive: true })
  const base = `${hfEndpoint()}/${repo}/resolve/${revision}`
  let onnx: string | undefined
  for (const c of ONNX_CANDIDATES) {
    if (await download(`${base}/${c}`, join(dir, c), source)) {
      onnx = join(dir, c)
      break
    }
  }
  if (!onnx) throw notFound('NOT_FOUND', `model '${source}' has no ONNX export at ${base}/{${ONNX_CANDIDATES.join(',')}}`, { model: source })
  for (const f of SIDE_FILES) await download(`${base}/${f}`, join(dir, f), source)
  return { dir, onnx }
}

/** Downloads to a temporary name and renames, so an interrupted download never looks complete. False on 404. */
async function download(url: string, target: string, source: string): Promise<boolean> {
  const tmp = `${target}.part${process.pid}`
  // Through the one outbound fetcher (streamed to disk, size cap, timeouts, redirects checked hop by hop). Internal
  // addresses only when the operator's endpoint is one itself (a mirror on the local network).
  const host = new URL(url).hostname
  const localEndpoint = isIP(host.replace(/^\[|\]$/g, '')) ? isInternalAddress(host.replace(/^\[|\]$/g, '')) : host === 'localhost'
  try {
    await downloadOutbound(url, tmp, { ...MODEL_DOWNLOAD, allowPrivate: localEndpoint, errorCode: 'UNAVAILABLE' })
  } catch (e) {
    if (e instanceof TesseraError && e.details?.status === 404) return false
    const why = e instanceof TesseraError ? e.message : (e as Error).message
    throw new TesseraError('UNAVAILABLE', `cannot download model '${source}': ${why}`, { model: source, url }, { cause: e })
  }
  renameSync(tmp, target)
  return true
}

/** Model files are large (an ONNX export is up to a few GiB) and may come slowly. */
const MODEL_DOWNLOAD = { maxBytes: 16 * 1024 ** 3, connectTimeoutMs: 30_000, totalTimeoutMs: 60 * 60_000 } as const
