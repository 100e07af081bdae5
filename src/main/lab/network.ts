import { readdirSync } from 'node:fs'
import { overlaps, parseIpv4Cidr } from '../../shared/cidr'
import { MigLabError } from '../../shared/errors'
import { run } from './exec'
import { BRIDGE, isLabNamespace, MGMT_PEER, TAP, UPLINK, type LabPlan } from './plan'

/** `ip` in MigLab's own namespace, or inside `ns`. */
const ip = (ns: string | undefined, ...args: string[]) => run(ns ? ['ip', '-n', ns, ...args] : ['ip', ...args])

/** Named network namespaces, read from where `ip netns add` mounts them (no process to spawn). */
export function listNamespaces(): string[] {
  try {
    return readdirSync('/run/netns')
  } catch {
    return []
  }
}

export const labNamespaces = (prefix: string): string[] => listNamespaces().filter((n) => isLabNamespace(prefix, n))

async function linkNames(ns?: string): Promise<Set<string>> {
  const { stdout } = await ip(ns, '-j', 'link', 'show')
  return new Set((JSON.parse(stdout || '[]') as { ifname: string }[]).map((l) => l.ifname))
}

export async function linkExists(name: string, ns?: string): Promise<boolean> {
  return (await linkNames(ns)).has(name)
}

/** Refuses a subnet that MigLab's namespace already routes elsewhere: the lab would hide a real network. */
export async function checkSubnetFree(plan: LabPlan): Promise<void> {
  const lab = parseIpv4Cidr(plan.subnet)!
  const { stdout } = await ip(undefined, '-j', '-4', 'route', 'show')
  const routes = JSON.parse(stdout || '[]') as { dst: string; dev?: string }[]
  const clash = routes.find((r) => r.dst !== 'default' && r.dev !== plan.managementLink && overlaps(lab, parseIpv4Cidr(r.dst) ?? lab))
  if (clash) {
    throw new MigLabError('demo_lab_subnet_in_use', `Subnet ${plan.subnet} overlaps ${clash.dst}, already routed via ${clash.dev ?? 'another route'}.`, {
      hint: 'Choose a free subnet inside 198.18.0.0/15, e.g. `miglab lab up --demo --subnet 198.19.42.0/24`.',
    })
  }
}

const bridge = (ns: string) => ip(ns, 'link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0')

/** The lab's switch: its namespace, bridge, and the management link from MigLab's own namespace. Repairs what is missing. */
export async function ensureSwitch(plan: LabPlan, onStep: (step: string) => void): Promise<void> {
  const sw = plan.switchNamespace
  if (!listNamespaces().includes(sw)) await run(['ip', 'netns', 'add', sw])
  await ip(sw, 'link', 'set', 'lo', 'up')
  onStep(`switch ${sw} and management link ${plan.managementLink}`)
  const swLinks = await linkNames(sw)
  if (!swLinks.has(BRIDGE)) await bridge(sw)
  await ip(sw, 'link', 'set', BRIDGE, 'up')
  const rootHasMgmt = await linkExists(plan.managementLink)
  if (!rootHasMgmt || !swLinks.has(MGMT_PEER)) {
    if (rootHasMgmt) await ip(undefined, 'link', 'del', plan.managementLink)
    if (swLinks.has(MGMT_PEER)) await ip(sw, 'link', 'del', MGMT_PEER)
    await ip(undefined, 'link', 'add', plan.managementLink, 'type', 'veth', 'peer', 'name', MGMT_PEER, 'netns', sw)
  }
  await ip(sw, 'link', 'set', MGMT_PEER, 'master', BRIDGE, 'up')
  await ip(undefined, 'addr', 'replace', `${plan.managementIp}/${plan.prefixLength}`, 'dev', plan.managementLink)
  await ip(undefined, 'link', 'set', plan.managementLink, 'up')
}

/** A persistent tap on the switch bridge, for a process that runs in the switch namespace (a Xen host's QEMU). */
export async function ensureSwitchTap(plan: LabPlan, tap: string): Promise<void> {
  const sw = plan.switchNamespace
  if (!(await linkExists(tap, sw))) await ip(sw, 'tuntap', 'add', 'dev', tap, 'mode', 'tap')
  await ip(sw, 'link', 'set', tap, 'master', BRIDGE, 'up')
}

/**
 * Creates whatever part of the lab's network is missing and leaves the rest alone, so it both builds
 * and repairs. A veth whose peer vanished (its namespace was deleted) is recreated as a pair.
 */
export async function ensureNetwork(plan: LabPlan, onStep: (step: string) => void): Promise<void> {
  const existing = new Set(listNamespaces())
  for (const ns of plan.nodes.map((n) => n.namespace)) {
    if (!existing.has(ns)) await run(['ip', 'netns', 'add', ns])
    await ip(ns, 'link', 'set', 'lo', 'up')
  }
  await ensureSwitch(plan, onStep)
  const sw = plan.switchNamespace
  const swLinks = await linkNames(sw)
  for (const node of plan.nodes) {
    onStep(`links of ${node.name}`)
    const ns = node.namespace
    const links = await linkNames(ns)
    if (!links.has(BRIDGE)) await bridge(ns)
    if (!links.has(UPLINK) || !swLinks.has(node.switchPort)) {
      if (links.has(UPLINK)) await ip(ns, 'link', 'del', UPLINK)
      if (swLinks.has(node.switchPort)) await ip(sw, 'link', 'del', node.switchPort)
      await ip(ns, 'link', 'add', UPLINK, 'type', 'veth', 'peer', 'name', node.switchPort, 'netns', sw)
    }
    // Persistent, so the guest NIC exists before QEMU opens it and survives QEMU restarts.
    if (!links.has(TAP)) await ip(ns, 'tuntap', 'add', 'dev', TAP, 'mode', 'tap')
    await ip(sw, 'link', 'set', node.switchPort, 'master', BRIDGE, 'up')
    await ip(ns, 'link', 'set', UPLINK, 'master', BRIDGE, 'up')
    await ip(ns, 'link', 'set', TAP, 'master', BRIDGE, 'up')
    await ip(ns, 'addr', 'replace', `${node.ip}/${plan.prefixLength}`, 'dev', BRIDGE)
    await ip(ns, 'link', 'set', BRIDGE, 'up')
  }
}

/** Deletes the lab's namespaces (with every link inside) and its management link. Processes must be gone first. */
export async function removeNetwork(prefix: string): Promise<void> {
  // First, synchronously: deleting the switch namespace would destroy this veth later, in the background.
  if (await linkExists(`${prefix}0`)) await ip(undefined, 'link', 'del', `${prefix}0`)
  for (const ns of labNamespaces(prefix)) await run(['ip', 'netns', 'del', ns])
}
