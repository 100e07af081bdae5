import type { HypervisorKind, Lab } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import type { HostKeysRepo } from '../store/hostkeys'
import type { LabsRepo, NewNode } from '../store/labs'
import type { LabPlan } from './plan'
import { hostKeyFile, readPublicKey, type PublicKey } from './sshd'
import type { LabPaths } from './state'

export const DEMO_LAB_NAME = 'demo'

/** Refuses to take over a real lab that happens to carry a demo lab's name. */
export function checkDemoName(labs: LabsRepo, name = DEMO_LAB_NAME): void {
  const lab = labs.byName(name)
  if (lab && lab.kind !== 'demo') {
    throw new MigLabError('lab_exists', `A real lab is already called "${name}".`, { hint: 'Rename or remove that lab, then bring the demo lab up again.' })
  }
}

export interface DemoLabRecord {
  name: string
  description: string
  hypervisor: HypervisorKind
  /** The lab's own client key: MigLab logs in to every node with it, as root. */
  clientKey: string
  nodes: { name: string; ip: string; hostKey: PublicKey }[]
}

/** A demo lab as an ordinary lab: its nodes, the lab key, and each node's host key trusted (pinned from the lab's own files). */
export function registerLab(labs: LabsRepo, hostKeys: HostKeysRepo, record: DemoLabRecord): Lab {
  checkDemoName(labs, record.name)
  const lab = labs.byName(record.name) ?? labs.create({ name: record.name, kind: 'demo', description: record.description, hypervisor: record.hypervisor })
  const nodes = record.nodes.map((n) => ({ name: n.name, host: n.ip, port: 22, user: 'root', auth: { kind: 'key' as const, keyPath: record.clientKey } }))
  const same = (a: NewNode[]) => JSON.stringify(a.map(({ name, host, port, user, auth }) => [name, host, port, user, auth.kind, auth.keyPath]))
  // Replace only on a real change: node ids key SSH connections and setup records elsewhere.
  if (same(lab.nodes) !== same(nodes)) labs.setNodes(lab.id, nodes)
  for (const node of record.nodes) hostKeys.trust({ host: node.ip, port: 22, ...node.hostKey })
  return labs.get(lab.id)!
}

/** The QEMU demo lab's record: namespace nodes, each with the host key of its own sshd. */
export function registerDemoLab(labs: LabsRepo, hostKeys: HostKeysRepo, plan: LabPlan, paths: LabPaths): Lab {
  return registerLab(labs, hostKeys, {
    name: DEMO_LAB_NAME,
    description: `Demo lab on this host: ${plan.nodes.length} nodes on ${plan.subnet} (network namespaces).`,
    hypervisor: 'qemu',
    clientKey: paths.clientKey,
    nodes: plan.nodes.map((n) => ({ name: n.name, ip: n.ip, hostKey: readPublicKey(`${hostKeyFile(paths, n)}.pub`) })),
  })
}
