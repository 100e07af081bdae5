import { MigLabError } from '../../shared/errors'
import type { NodesRepo } from '../store/nodes'
import type { SshTarget } from './pool'

/** The pool, the secret store and host-key prompts know a stored node by this key. */
export const nodeKey = (id: number): string => String(id)

/** Resolves pool keys to stored nodes; a jump host is another node of the same lab, by name. */
export function storedNodeTargets(nodes: NodesRepo): (key: string) => SshTarget {
  return (key) => {
    const node = nodes.require(Number(key))
    const { host, port, user, auth } = node
    if (!node.jumpHost) return { host, port, user, auth }
    const jump = nodes.byName(node.labId, node.jumpHost)
    if (!jump) throw new MigLabError('node_not_found', `The jump host "${node.jumpHost}" of node "${node.name}" is not a node of its lab.`)
    return { host, port, user, auth, jump: nodeKey(jump.id) }
  }
}
