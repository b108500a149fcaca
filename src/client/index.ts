export { connect, RemoteTable, RemoteTessera } from './remote.ts'
// The one query builder: the library's Query, run over HTTP by HttpExecutor (RemoteQuery is its type here).
export { Query } from '../query/query.ts'
export { HttpExecutor } from './http-executor.ts'
// The expression nodes' frozen factories: the wire form of expressions, for programs (and the console) that build
// query JSON themselves.
export { colNode, fnNode, litNode } from '../query/nodes/factories.ts'
export type { ColNode, ExprNode } from '../query/nodes/types.ts'
export type { RemoteQuery, RemoteSource } from './http-executor.ts'
export type { ClientOptions } from './http.ts'
export { HttpTransport, queryString, toError } from './http.ts'
// The library's error classes: an API error is rebuilt as the class its code names (http.ts), so callers catch by class.
export { TesseraError, NotFoundError, AlreadyExistsError, RequestError, ConflictError, ConcurrencyError, ComputationError, AuthError, UnavailableError, isTesseraError, ERROR_CODES } from '../errors.ts'
export type { ErrorCode, ErrorFamily } from '../errors.ts'
export type { RemoteJobInfo } from './remote-jobs.ts'
