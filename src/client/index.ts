export { connect, RemoteTable, RemoteTessera } from './remote.ts'
// The one query builder: the library's Query, run over HTTP by HttpExecutor (RemoteQuery is its type here).
export { Query } from '../query/query.ts'
export { HttpExecutor } from './http-executor.ts'
export type { RemoteQuery, RemoteSource } from './http-executor.ts'
export type { ClientOptions } from './http.ts'
export type { RemoteJobInfo } from './remote-jobs.ts'
// What other folders import from this one (added by the barrels codemod).
export { toError } from './http.ts'
