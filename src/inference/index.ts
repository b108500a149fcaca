// Local inference: ONNX sessions and providers, model sources, tokenizers, embedders, OCR.
import './functions.ts'

export { checkEmbedder, embedders, embedValues, withDims } from './embedders.ts'
export type { Embedder } from './embedders.ts'
export { defaultProvider, getSession, tensor } from './runtime.ts'
export type { Provider } from './runtime.ts'
export { modelCacheDir, hfEndpoint, resolveModel } from './models.ts'
export { buildModel } from './onnx-proto.ts'
// What other folders import from this one (added by the barrels codemod).
export { loadHfTokenizer } from './tokenizer.ts'
