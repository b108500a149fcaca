// Bun's `import path from './x.wasm' with { type: 'file' }` yields the file's path (inside a compiled binary, a
// /$bunfs/ path). Only src/runtime/assets-bun.ts imports files this way.
declare module '*.wasm' {
  const path: string
  export default path
}
declare module '*.data' {
  const path: string
  export default path
}
declare module '*.tar.gz' {
  const path: string
  export default path
}
declare module '*.mjs' {
  const path: string
  export default path
}
declare module '*.so.1' {
  const path: string
  export default path
}
declare module '*.onnx' {
  const path: string
  export default path
}
declare module '*.txt' {
  const path: string
  export default path
}
declare module '*.cjs' {
  const path: string
  export default path
}
