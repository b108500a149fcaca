// The OpenAI client lives in src/ai/ on the client core all providers share (rate limits, retries, adaptive limits
// from the provider's headers); this module keeps `openai.chat` / `openai.embeddings` where they have always been
// imported from. Base URL and key: openai.configure(), else TESSERA_OPENAI_BASE_URL / OPENAI_BASE_URL and
// TESSERA_OPENAI_API_KEY / OPENAI_API_KEY.
export { openai } from '../ai/index.ts'
export type { ChatOptions, EmbeddingOptions } from '../ai/index.ts'
export type { ProviderConfig as OpenAIConfig } from '../ai/index.ts'
