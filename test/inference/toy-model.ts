import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildModel } from '../../src/inference/index.ts'
import { gaussianMatrix } from '../../src/inference/onnx-proto.ts'
import { MODELS_DIR } from '../support/db.ts'

// No sentence-transformers export can be fetched offline, so text-embedder tests use a toy model with the same
// interface (input_ids, attention_mask, token_type_ids → last_hidden_state): a seeded random vector per token.
// Mean pooling then makes texts sharing tokens close, which the tests can check exactly.

export const TOY_DIMS = 32
export const VOCAB = 30522

export function writeToyTextModel(dir: string): string {
  mkdirSync(dir, { recursive: true })
  const bytes = buildModel({
    name: 'toy_bert',
    inputs: ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({ name, dtype: 'int64' as const, shape: ['batch', 'seq'] })),
    outputs: [{ name: 'last_hidden_state', dtype: 'float', shape: ['batch', 'seq', TOY_DIMS] }],
    initializers: [{ name: 'table', dtype: 'float', dims: [VOCAB, TOY_DIMS], data: gaussianMatrix(VOCAB * TOY_DIMS, 7) }],
    nodes: [
      { op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['last_hidden_state'], attrs: { axis: 0 } },
    ],
  })
  writeFileSync(join(dir, 'model.onnx'), bytes)
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json']) copyFileSync(join(MODELS_DIR, 'bert-uncased-tokenizer', f), join(dir, f))
  return dir
}
