import { formatCidr, hostAt, parseIpv4, parseLabSubnet } from '../../shared/cidr'
import { MigLabError } from '../../shared/errors'

export const DEFAULT_PREFIX = 'mlab'
/** Inside 198.18.0.0/15, reserved for network benchmarking: collides with no real lab. */
export const DEFAULT_SUBNET = '198.18.0.0/24'
export const DEFAULT_NODES = 2
export const MAX_NODES = 8

/** Names inside the lab's own namespaces; they cannot clash with anything, so they stay fixed. */
export const BRIDGE = 'br0'
export const UPLINK = 'up0'
export const TAP = 'tap0'
export const MGMT_PEER = 'mgmt'

export interface NodePlan {
  /** Node name, hostname and namespace name alike, e.g. `mlab-n1`. */
  name: string
  namespace: string
  ip: string
  /** The uplink's peer on the switch bridge. */
  switchPort: string
}

export interface LabPlan {
  prefix: string
  subnet: string
  prefixLength: number
  switchNamespace: string
  /** The veth in MigLab's own namespace, peered into the switch. */
  managementLink: string
  managementIp: string
  guestIp: string
  guestMac: string
  nodes: NodePlan[]
}

const hex = (n: number): string => n.toString(16).padStart(2, '0')

/** Short enough that `<prefix>0` fits Linux's 15-character interface names. */
export function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) {
    throw new MigLabError('bad_prefix', `Lab prefix "${prefix}" must be 1–8 lowercase letters or digits, starting with a letter.`)
  }
}

/** Every name and address of a demo lab, from its prefix, subnet and node count. Pure. */
export function planLab(prefix: string, subnet: string, nodeCount: number): LabPlan {
  checkPrefix(prefix)
  const parsed = parseLabSubnet(subnet)
  if (!parsed.ok) throw new MigLabError('bad_subnet', `Subnet "${subnet}": ${parsed.reason}.`)
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES) {
    throw new MigLabError('bad_nodes', `A demo lab has 1..${MAX_NODES} nodes, not ${nodeCount}.`)
  }
  const { cidr } = parsed
  const guestIp = hostAt(cidr, 100)
  const low = parseIpv4(guestIp)! % 2 ** 24
  return {
    prefix,
    subnet: formatCidr(cidr),
    prefixLength: cidr.prefixLength,
    switchNamespace: `${prefix}-sw`,
    managementLink: `${prefix}0`,
    managementIp: hostAt(cidr, 1),
    guestIp,
    // QEMU's OUI plus the guest address: one MAC per lab, the same on whichever node the guest runs.
    guestMac: `52:54:00:${hex(low >>> 16)}:${hex((low >>> 8) & 255)}:${hex(low & 255)}`,
    nodes: Array.from({ length: nodeCount }, (_, i) => ({
      name: `${prefix}-n${i + 1}`,
      namespace: `${prefix}-n${i + 1}`,
      ip: hostAt(cidr, 11 + i),
      switchPort: `n${i + 1}`,
    })),
  }
}

/** Whether a namespace name belongs to the lab with this prefix (switch or any node). */
export const isLabNamespace = (prefix: string, name: string): boolean => name === `${prefix}-sw` || new RegExp(`^${prefix}-n\\d+$`).test(name)
