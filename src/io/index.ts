// Data in and out: file/stream imports into tables and query exports to files/streams.
export { formatOf, importData, importFile, mediaKindOf } from './import/index.ts'
export type { ImportBody, ImportDataOptions, ImportFormat, ImportOptions, ImportProblem, ImportProgress, ImportResult, OnBadRow } from './import/index.ts'
export { exportFormatOf, exportQuery, exportStream } from './export/index.ts'
export { firstInvalidByte } from './import/utf8.ts'
export { recordWatch } from './import/record-watch.ts'
export type { RecordWatch } from './import/record-watch.ts'
export { MAX_RECORD_CHARS } from './import/record-limit.ts'
export type { Exportable, ExportFormat, ExportOptions, ExportProgress, ExportResult } from './export/index.ts'
