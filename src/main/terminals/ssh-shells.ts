import { MigLabError } from '../../shared/errors'
import { openShell } from '../ssh/shell'
import type { SshPool } from '../ssh/pool'
import { nodeKey } from '../ssh/targets'
import type { NodesRepo } from '../store/nodes'
import type { ShellOpener } from './manager'

/** Terminals open a pty shell on the node's pooled SSH connection. */
export function sshShells(pool: SshPool, nodes: NodesRepo): ShellOpener {
  return async (nodeId, size) => {
    const node = nodes.get(nodeId)
    if (!node) throw new MigLabError('node_not_found', `No node with id ${nodeId}.`, { hint: 'Reload the lab page.' })
    return { shell: await openShell(pool, nodeKey(nodeId), size), title: node.name }
  }
}
