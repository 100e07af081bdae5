import type { Lab } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import type { HostKeysRepo } from '../store/hostkeys'
import type { LabsRepo, NewNode } from '../store/labs'
import type { LabPlan } from './plan'
import { hostKeyFile, readPublicKey } from './sshd'
import type { LabPaths } from './state'

export const DEMO_LAB_NAME = 'demo'

/** Refuses to take over a real lab that happens to be called `demo`. */
export function checkDemoName(labs: LabsRepo): void {
  const lab = labs.byName(DEMO_LAB_NAME)
  if (lab && lab.kind !== 'demo') {
    throw new MigLabError('lab_exists', `A real lab is already called "${DEMO_LAB_NAME}".`, { hint: 'Rename or remove that lab, then bring the demo lab up again.' })
  }
}

/** The demo lab as an ordinary lab: its nodes, the lab key, and each node's host key trusted. */
export function registerDemoLab(labs: LabsRepo, hostKeys: HostKeysRepo, plan: LabPlan, paths: LabPaths): Lab {
  checkDemoName(labs)
  const lab =
    labs.byName(DEMO_LAB_NAME) ??
    labs.create({ name: DEMO_LAB_NAME, kind: 'demo', description: `Demo lab on this host: ${plan.nodes.length} nodes on ${plan.subnet} (network namespaces).` })
  const nodes = plan.nodes.map((n) => ({ name: n.name, host: n.ip, port: 22, user: 'root', auth: { kind: 'key' as const, keyPath: paths.clientKey } }))
  const same = (a: NewNode[]) => JSON.stringify(a.map(({ name, host, port, user, auth }) => [name, host, port, user, auth.kind, auth.keyPath]))
  // Replace only on a real change: node ids key SSH connections and setup records elsewhere.
  if (same(lab.nodes) !== same(nodes)) labs.setNodes(lab.id, nodes)
  for (const node of plan.nodes) hostKeys.trust({ host: node.ip, port: 22, ...readPublicKey(`${hostKeyFile(paths, node)}.pub`) })
  return labs.get(lab.id)!
}
