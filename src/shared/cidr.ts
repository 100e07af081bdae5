/** IPv4 CIDR arithmetic for lab subnets. Plain functions, shared by the input schemas and the core. */

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  network: number
  prefixLength: number
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0)
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.')
}

/** Lab subnets need room for the management address, up to 8 nodes and the guest at .100. */
export const MIN_PREFIX = 8
export const MAX_PREFIX = 25

/** Any `a.b.c.d/len` (a bare address counts as /32), host bits masked off; undefined when malformed. */
export function parseIpv4Cidr(text: string): Cidr | undefined {
  const m = /^([\d.]+)(?:\/(\d{1,2}))?$/.exec(text.trim())
  const address = m ? parseIpv4(m[1]) : undefined
  const prefixLength = m?.[2] === undefined ? 32 : Number(m[2])
  if (address === undefined || prefixLength > 32) return undefined
  const size = 2 ** (32 - prefixLength)
  return { network: address - (address % size), prefixLength }
}

/** Checks a subnet for a lab; returns the reason when it is not usable. */
export function parseLabSubnet(text: string): { ok: true; cidr: Cidr } | { ok: false; reason: string } {
  const cidr = /\//.test(text) ? parseIpv4Cidr(text) : undefined
  if (!cidr) return { ok: false, reason: 'expected an IPv4 subnet like 198.18.0.0/24' }
  if (cidr.prefixLength < MIN_PREFIX || cidr.prefixLength > MAX_PREFIX) {
    return { ok: false, reason: `prefix length must be /${MIN_PREFIX}../${MAX_PREFIX} (room for nodes and a guest at .100)` }
  }
  if (formatCidr(cidr) !== text.trim()) return { ok: false, reason: `host bits are set; did you mean ${formatCidr(cidr)}?` }
  const first = Math.floor(cidr.network / 2 ** 24)
  if (first === 0 || first === 127 || first >= 224) return { ok: false, reason: 'not a unicast range (0/8, 127/8 and 224/3 are excluded)' }
  return { ok: true, cidr }
}

/** The address `offset` hosts into the subnet. */
export const hostAt = (cidr: Cidr, offset: number): string => formatIpv4(cidr.network + offset)

export const formatCidr = (cidr: Cidr): string => `${formatIpv4(cidr.network)}/${cidr.prefixLength}`

export function overlaps(a: Cidr, b: Cidr): boolean {
  const end = (c: Cidr) => c.network + 2 ** (32 - c.prefixLength)
  return a.network < end(b) && b.network < end(a)
}
