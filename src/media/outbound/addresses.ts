import { isIP } from 'node:net'

// Which addresses the server may connect to for a caller's URL. An address is internal when it is loopback,
// private, link-local, unique-local, carrier-grade NAT, unspecified, multicast, reserved or documentation space,
// or an IPv6 form that carries such an IPv4 address inside it (IPv4-mapped ::ffff:a.b.c.d in any spelling,
// IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32).
// Addresses are compared as bytes, so no spelling (hex groups, '::' anywhere, dotted tails) gets around it;
// IPv4 in decimal, hex or octal is normalised by the URL parser before it gets here (new URL('http://0x7f.1/')).

/** The 4 bytes of a dotted-decimal IPv4 address, or undefined. */
export function ipv4Bytes(s: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  const b = m.slice(1).map(Number)
  return b.every((x) => x <= 255) ? b : undefined
}

/** The 16 bytes of an IPv6 address (with or without brackets, a zone, or a dotted IPv4 tail), or undefined. */
export function ipv6Bytes(input: string): number[] | undefined {
  let s = input.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase()
  if (isIP(s) !== 6) return undefined
  const tail = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s)
  if (tail) {
    const v4 = ipv4Bytes(tail[1]!)
    if (!v4) return undefined
    s = s.slice(0, -tail[1]!.length) + `${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`
  }
  const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined]
  const groups = (x: string) => (x === '' ? [] : x.split(':').map((g) => parseInt(g, 16)))
  const h = groups(head)
  const r = rest === undefined ? [] : groups(rest)
  const all = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill(0), ...r]
  if (all.length !== 8 || all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined
  return all.flatMap((g) => [g >> 8, g & 0xff])
}

function internalV4(b: readonly number[]): string | undefined {
  const [a, c] = [b[0]!, b[1]!]
  if (a === 0) return 'an unspecified ("this network") address'
  if (a === 127) return 'a loopback address'
  if (a === 10 || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168)) return 'a private address'
  if (a === 169 && c === 254) return 'a link-local address (cloud metadata services live here)'
  if (a === 100 && c >= 64 && c <= 127) return 'a carrier-grade NAT address'
  if (a === 192 && c === 0 && (b[2] === 0 || b[2] === 2)) return 'a reserved address'
  if (a === 198 && (c === 18 || c === 19)) return 'a benchmarking address'
  if ((a === 198 && c === 51 && b[2] === 100) || (a === 203 && c === 0 && b[2] === 113)) return 'a documentation address'
  if (a >= 224) return 'a multicast or reserved address'
  return undefined
}

/** Why an address is internal (for the error message), or undefined when it is a public address. */
export function internalReason(address: string): string | undefined {
  const v4 = ipv4Bytes(address)
  if (v4) return internalV4(v4)
  const b = ipv6Bytes(address)
  if (!b) return 'not an IP address'
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0)
  const embedded = (at: number, what: string) => {
    const why = internalV4(b.slice(at, at + 4))
    return why ? `${what} of ${why}` : undefined
  }
  if (zero(0, 16)) return 'the unspecified address'
  if (zero(0, 15) && b[15] === 1) return 'a loopback address'
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): the IPv4 address is what the socket reaches.
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return embedded(12, 'an IPv4-mapped form') ?? undefined
  if (zero(0, 12)) return embedded(12, 'an IPv4-compatible form') ?? 'a reserved address'
  // ::ffff:0:a.b.c.d (SIIT translated) and 64:ff9b::/96, 64:ff9b:1::/48 (NAT64): a gateway forwards to the IPv4 inside.
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return embedded(12, 'a translated IPv4 form') ?? undefined
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) return embedded(12, 'a NAT64 form') ?? (b[4] === 0 && b[5] === 1 ? 'a local-use NAT64 address' : undefined)
  if (b[0] === 0x20 && b[1] === 0x02) return embedded(2, 'a 6to4 form')
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) {
    // Teredo: the server's IPv4 in bytes 4-7, the client's (inverted) in bytes 12-15.
    const client = internalV4(b.slice(12, 16).map((x) => x ^ 0xff))
    return embedded(4, 'a Teredo form') ?? (client ? `a Teredo form of ${client}` : undefined)
  }
  if ((b[0]! & 0xfe) === 0xfc) return 'a unique-local address'
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'a link-local address'
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'a site-local address'
  if (b[0] === 0xff) return 'a multicast address'
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'a documentation address'
  if (b[0] === 0x01 && zero(1, 8)) return 'a discard-only address'
  return undefined
}

export const isInternalAddress = (address: string): boolean => internalReason(address) !== undefined
