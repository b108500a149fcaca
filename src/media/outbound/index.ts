// The one outbound fetcher: every remote read of the server (media URLs, model downloads) goes through it.
export { internalReason, ipv4Bytes, ipv6Bytes, isInternalAddress } from './addresses.ts'
export { downloadOutbound, OUTBOUND_DEFAULTS, resolveTarget } from './fetch.ts'
export type { OutboundOptions, OutboundResult } from './fetch.ts'
