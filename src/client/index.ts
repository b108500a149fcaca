export { connect, RemoteTable, RemoteTessera } from './remote.ts'
export { RemoteQuery } from './remote-query.ts'
export type { ClientOptions } from './http.ts'
export type { RemoteJobInfo } from './remote-jobs.ts'
// What other folders import from this one (added by the barrels codemod).
export { toError } from './http.ts'
